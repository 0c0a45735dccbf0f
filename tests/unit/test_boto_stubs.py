"""The stubs of injector/backends/boto.py are in place, never touched, and loud when touched.

Each check runs in a fresh interpreter: the stubs go in only before botocore is imported,
and this test process has long imported the real modules.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
import sys
from injector.backends import aws, boto
session = boto.new_session()
session.set_credentials("AKIDEXAMPLE", "secret")
clients = {name: session.create_client(name, region_name="eu-west-1")
           for name in ("s3", "ssm", "secretsmanager", "kms", "sts")}
"""


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    script = PRELUDE + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )


def test_stubs_replace_the_real_modules(tmp_path: Path) -> None:
    """After importing injector's AWS layer, botocore.docs and urllib3.http2 are the stubs."""
    done = _run(
        """
        assert sys.modules["botocore.docs"].__doc__ == boto.STUB_DOC
        assert sys.modules["urllib3.http2"].inject_into_urllib3 is boto._refuse_http2
        assert sys.modules["urllib3.http2.probe"].__file__.endswith("probe.py")
        for gone in ("botocore.docs.service", "botocore.docs.bcdoc", "importlib.metadata"):
            assert gone not in sys.modules, gone
        print("ok")
    """,
        tmp_path,
    )
    assert done.stdout == "ok\n", done.stderr[-1500:]


def test_rendering_a_docstring_fails_loudly(tmp_path: Path) -> None:
    """help()-style rendering of a client method's docstring raises StubbedOutError."""
    done = _run(
        """
        doc = clients["s3"].get_object.__doc__
        assert isinstance(doc, str) and str.__len__(doc) == 0
        for touch in (str, repr, lambda d: d.expandtabs()):
            try:
                touch(doc)
            except boto.StubbedOutError as exc:
                print("refused:", exc)
            else:
                raise SystemExit("rendered")
    """,
        tmp_path,
    )
    assert done.stdout.count("refused: botocore.docs is stubbed out") == 3, done.stderr[-1500:]


def test_docs_handlers_and_submodules_fail_loudly(tmp_path: Path) -> None:
    """A docs.* event handler raises; importing any other botocore.docs module fails."""
    done = _run(
        """
        try:
            session.get_component("event_emitter").emit(
                "docs.request-params.s3.CopyObject.complete-section", section=None)
        except boto.StubbedOutError:
            print("handler refused")
        try:
            import botocore.docs.method
        except ImportError:
            print("import refused")
        try:
            sys.modules["urllib3.http2"].inject_into_urllib3()
        except boto.StubbedOutError:
            print("http2 refused")
    """,
        tmp_path,
    )
    assert done.stdout.split("\n")[:3] == ["handler refused", "import refused", "http2 refused"], (
        done.stderr[-1500:]
    )
