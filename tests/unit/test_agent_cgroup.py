"""The container ID from /proc/PID/cgroup: every engine layout, spoofs, and garbage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from injector.agent import cgroup

FIXTURES = Path(__file__).parent / "fixtures" / "cgroup"
A = "3c27c3a89f4d01ac59fc65a5db253732b93c708219ad3af355fc1bdae3ca1ff9"

EXPECTED = {
    "v1-cgroupfs.txt": A,
    "v1-systemd.txt": A,
    "v2-systemd.txt": A,
    "v2-cgroupfs.txt": A,
    "v2-systemd-nested-init.txt": A,
    "nested-dind.txt": A,
    "nested-spoof-scope.txt": A,
    "nested-spoof-bare.txt": A,
    "host-v1.txt": None,
    "host-v2.txt": None,
    "bare-id-no-engine.txt": None,
    "short-id.txt": None,
    "uppercase-id.txt": None,
}


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED.items()))
def test_layouts(name: str, expected: str | None) -> None:
    """Each fixture yields its container (the shallowest match) or none."""
    assert cgroup.container_id((FIXTURES / name).read_text()) == expected


def test_every_fixture_is_listed() -> None:
    """No fixture file goes untested."""
    names = {p.name for p in FIXTURES.iterdir()}
    assert names == set(EXPECTED) | {"conflict.txt", "podman.txt"}


def test_two_ids_refuse() -> None:
    """Two hierarchies naming different containers mean refuse."""
    with pytest.raises(cgroup.CgroupError, match="more than one"):
        cgroup.container_id((FIXTURES / "conflict.txt").read_text())


def test_podman_is_refused_clearly() -> None:
    """A Podman container gets a clear error, not a silent 'not a container'."""
    with pytest.raises(cgroup.CgroupError, match="Podman"):
        cgroup.container_id((FIXTURES / "podman.txt").read_text())


@pytest.mark.parametrize(
    "line",
    ["garbage", "x::/docker/" + A, "0::docker/" + A, "0:" + A, "0::/" + "a" * 5000],
)
def test_malformed_lines_refuse(line: str) -> None:
    """A line that is not hierarchy:controllers:/path is an error, never a match."""
    with pytest.raises(cgroup.CgroupError):
        cgroup.container_id(line)


def test_shallowest_wins_in_one_line() -> None:
    """A nested cgroup named after another container does not win over its parent."""
    other = "b" * 64
    assert cgroup.line_id(f"0::/docker/{A}/docker/{other}") == A
    assert cgroup.line_id(f"0::/system.slice/docker-{A}.scope/docker-{other}.scope") == A


def test_reads_this_process() -> None:
    """read() returns the kernel's file for a live process."""
    assert ":" in cgroup.read(1)


@given(st.text(max_size=400))
def test_garbage_never_crashes(text: str) -> None:
    """Any text gives an ID, None, or CgroupError; nothing else escapes."""
    try:
        result = cgroup.container_id(text)
    except cgroup.CgroupError:
        return
    assert result is None or (len(result) == 64 and result in text)


@given(
    st.lists(st.sampled_from(["docker", A, f"docker-{A}.scope", "x", "system.slice"]), max_size=6)
)
def test_generated_paths(components: list[str]) -> None:
    """Generated paths match only where the engine's layout says so."""
    path = "/" + "/".join(components)
    result = cgroup.line_id("0::" + path)
    layout = any(
        c == f"docker-{A}.scope" or (i and components[i - 1] == "docker" and c == A)
        for i, c in enumerate(components)
    )
    assert (result == A) == layout
