"""The agent's policy file: strict keys, matching, ambiguity, durations."""

from __future__ import annotations

import pytest

from injector.agent import policy
from injector.errors import ConfigError

GOOD = (
    b"""
version = 1
[agent]
socket = "/run/injector/agent/agent.sock"
once_per_start = true
max_start_age = "90s"
max_caller_depth = 2

[[policy]]
name = "payments"
match.labels = { "com.example.service" = "payments" }
env.DB_PASSWORD = "ref+awsssm://prod/payments/db_password"
files.TLS_KEY = "ref+s3://ops-bucket/payments/tls.key"

[[policy]]
name = "billing"
match.labels = { "com.example.service" = "billing" }
match.image_ids = ["sha256:"""
    + b"a" * 64
    + b""""]
env.API_KEY = "ref+awssecrets://prod/billing#/api_key"
"""
)


def test_good_policy() -> None:
    """A valid file parses into settings and rules; files become *_FILE deliveries."""
    parsed = policy.parse(GOOD, "good.toml")
    assert parsed.settings.max_start_age == 90
    assert parsed.settings.max_caller_depth == 2
    assert [r.name for r in parsed.rules] == ["payments", "billing"]
    assert parsed.rules[0].deliveries() == {
        "DB_PASSWORD": "ref+awsssm://prod/payments/db_password",
        "TLS_KEY_FILE": "ref+s3://ops-bucket/payments/tls.key",
    }
    assert parsed.ambiguities() == []


def test_matching() -> None:
    """All labels must match, and the image when image_ids is given."""
    parsed = policy.parse(GOOD, "good.toml")
    assert [r.name for r in parsed.match({"com.example.service": "payments"}, "x")] == ["payments"]
    assert parsed.match({"com.example.service": "billing"}, "sha256:" + "b" * 64) == []
    assert parsed.match({}, "x") == []


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            b'version = 1\n[[policy]]\nname="a"\nmatch.lables={x="y"}\nenv.A="ref+s3://b/k"',
            "match.lables",
        ),
        (b'version = 1\n[agent]\nsokcet="/x"', "agent.sokcet"),
        (b"version = 1\nextra = 1", "extra"),
        (b'version = 1\n[[policy]]\nname="a"\nmatch.labels={x="y"}\nenvs.A="ref+s3://b/k"', "envs"),
    ],
)
def test_unknown_keys_are_errors(text: bytes, key: str) -> None:
    """A typo anywhere is an error naming the key (never a silent match-all)."""
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        policy.parse(text, "p.toml")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (b"version = 2", "version"),
        (b'version = 1\n[agent]\nmax_start_age = "soon"', "max_start_age"),
        (b"version = 1\n[agent]\nmax_caller_depth = -1", "max_caller_depth"),
        (b'version = 1\n[agent]\nonce_per_start = "yes"', "once_per_start"),
        (b'version = 1\n[agent]\nengine = "tcp://1.2.3.4:2375"', "engine"),
        (b'version = 1\n[agent]\nsocket = "/' + b"x" * 120 + b'"', "sun_path"),
        (b'version = 1\n[[policy]]\nname="a"\nenv.A="ref+s3://b/k"', "empty match"),
        (
            b'version = 1\n[[policy]]\nname="a"\nmatch.labels={x="y"}\nenv.A="nope://x"',
            "policy.a.env.A",
        ),
        (
            b'version = 1\n[[policy]]\nname="a"\nmatch.labels={x="y"}\nenv.AWS_X="ref+s3://b/k"',
            "AWS_X",
        ),
        (
            b'version = 1\n[[policy]]\nname="a"\nmatch.labels={x="y"}\nenv.A_FILE="ref+s3://b/k"',
            "files",
        ),
        (b'version = 1\n[[policy]]\nname="a"\nmatch.labels={x="y"}', "delivers nothing"),
        (
            b'version = 1\n[[policy]]\nname="a"\nmatch.image_ids=["latest"]\nenv.A="ref+s3://b/k"',
            "sha256",
        ),
        (
            (
                b'version = 1\n[[policy]]\nname="a"\nmatch.labels={x="y"}\nenv.A="ref+s3://b/k"\n'
                b'[[policy]]\nname="a"\nmatch.labels={x="z"}\nenv.A="ref+s3://b/k"'
            ),
            "twice",
        ),
        (b"not toml [", "TOML"),
    ],
)
def test_invalid(text: bytes, fragment: str) -> None:
    """Every invalid file is refused with a message naming what is wrong."""
    with pytest.raises(ConfigError, match=fragment):
        policy.parse(text, "p.toml")


def test_static_ambiguity() -> None:
    """Two rules a container could match both of are reported; disjoint ones are not."""
    text = b"""version = 1
[[policy]]
name = "a"
match.labels = { team = "x" }
env.A = "ref+s3://b/a"
[[policy]]
name = "b"
match.labels = { team = "x", tier = "web" }
env.B = "ref+s3://b/b"
[[policy]]
name = "c"
match.labels = { team = "y" }
env.C = "ref+s3://b/c"
"""
    parsed = policy.parse(text, "p.toml")
    assert parsed.ambiguities() == [("a", "b")]
    assert len(parsed.match({"team": "x", "tier": "web"}, "i")) == 2


@pytest.mark.parametrize(("raw", "seconds"), [("60s", 60), ("2m", 120), ("500ms", 0.5), (30, 30)])
def test_durations(raw: object, seconds: float) -> None:
    """Durations take s, m, h, ms or plain numbers."""
    assert policy.duration(raw, "x") == seconds


def test_default_depth_is_init_plus_the_bootloader() -> None:
    """Unset, max_caller_depth admits docker-init and the static binary's bootloader only."""
    assert policy.Settings().max_caller_depth == 2
