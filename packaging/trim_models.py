"""Generate injector's trimmed botocore models from the installed (pinned) botocore's data.

    python packaging/trim_models.py [OUTDIR]     (default: injector/_models, git-ignored)

For each service injector calls itself, botocore's own Loader loads the service model
(sdk-extras merged, exactly what a stock client gets) and the endpoint rule set; the
model keeps its metadata and only the operations injector (and botocore on its behalf)
calls, the shapes reachable from them, and every exception shape (``client.exceptions``
stays complete); ``documentation`` strings of operations and shapes are dropped (only
botocore.docs reads them).
Written as compact JSON in the source's key order, plus ``manifest.json`` naming the
botocore version and each source file's sha256. Nothing here is edited by hand:
tests/unit/test_trimmed_models.py signs every operation through the stock and the trimmed
setup and requires byte-identical requests. Deterministic: same botocore, same bytes.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import botocore
from botocore.loaders import Loader

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "injector" / "_models"

# The operations called per service: injector's own calls plus those botocore makes on
# the client's behalf (S3: HeadBucket to find a bucket's region, CreateSession for
# directory buckets). Services botocore's credential chain uses (sts, sso, ...) stay stock.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "s3": ("GetObject", "PutObject", "HeadObject", "HeadBucket", "CreateSession"),
    "ssm": ("GetParameters", "GetParametersByPath", "PutParameter"),
    "secretsmanager": (
        "GetSecretValue",
        "BatchGetSecretValue",
        "PutSecretValue",
        "CreateSecret",
    ),
    "kms": ("Decrypt", "Encrypt"),
}
TYPES = ("service-2", "endpoint-rule-set-1")


def _refs(shape: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the shape references inside *shape* (members, list member, map key/value)."""
    refs = list(shape.get("members", {}).values())
    refs += [shape[key] for key in ("member", "key", "value") if key in shape]
    return refs


def _reachable(shapes: dict[str, Any], roots: list[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(ref["shape"] for ref in _refs(shapes[name]))
    return seen


def _undocumented(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k != "documentation"}


def _shape(shape: dict[str, Any]) -> dict[str, Any]:
    """Return *shape* without the documentation of itself and of its member references."""
    copy = _undocumented(shape)
    if "members" in copy:
        copy["members"] = {k: _undocumented(v) for k, v in copy["members"].items()}
    for key in ("member", "key", "value"):
        if key in copy:
            copy[key] = _undocumented(copy[key])
    return copy


def trim(model: dict[str, Any], operations: tuple[str, ...]) -> dict[str, Any]:
    """Return *model* with only *operations*, their shapes and the exception shapes."""
    ops = {}
    for name in operations:
        op = _undocumented(model["operations"][name])
        for key in ("input", "output"):
            if key in op:
                op[key] = _undocumented(op[key])
        if "errors" in op:
            op["errors"] = [_undocumented(err) for err in op["errors"]]
        ops[name] = op
    shapes = model["shapes"]
    roots = [ref["shape"] for op in ops.values() for ref in _op_refs(op)]
    roots += [name for name, shape in shapes.items() if shape.get("exception")]
    keep = _reachable(shapes, roots)
    trimmed_shapes = {name: _shape(shape) for name, shape in shapes.items() if name in keep}
    # clientContextParams keep their documentation: botocore reads it (ClientContextParameter).
    out = {k: v for k, v in model.items() if k not in {"operations", "shapes", "documentation"}}
    out["operations"] = ops
    out["shapes"] = trimmed_shapes
    return out


def _op_refs(op: dict[str, Any]) -> list[dict[str, Any]]:
    return [op[key] for key in ("input", "output") if key in op] + op.get("errors", [])


def _sha256(stem: str) -> str:
    """Return the sha256 of the data file botocore read for *stem* (``.json`` or ``.json.gz``)."""
    found = next(Path(stem + ext) for ext in (".json", ".json.gz") if Path(stem + ext).is_file())
    return hashlib.sha256(found.read_bytes()).hexdigest()


def generate(out: Path) -> dict[str, Any]:
    """Write every trimmed model and rule set under *out*; return the manifest."""
    loader = Loader()
    manifest: dict[str, Any] = {"botocore": botocore.__version__, "services": {}}
    for service, operations in OPERATIONS.items():
        version = loader.determine_latest_version(service, "service-2")
        entry: dict[str, Any] = {"api_version": version, "operations": list(operations)}
        for type_name in TYPES:
            data, source = loader.load_data_with_path(f"{service}/{version}/{type_name}")
            if type_name == "service-2":
                data = loader.load_service_model(service, type_name, version)
                data = trim(data, operations)
            target = out / service / version / f"{type_name}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            entry[type_name] = {"source_sha256": _sha256(source), "bytes": target.stat().st_size}
        manifest["services"][service] = entry
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str]) -> int:
    """Generate into argv[1] or the default directory."""
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    manifest = generate(out)
    sizes = ", ".join(
        f"{name} {entry['service-2']['bytes']:,} B" for name, entry in manifest["services"].items()
    )
    print(f"trim_models: botocore {manifest['botocore']} -> {out} ({sizes})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
