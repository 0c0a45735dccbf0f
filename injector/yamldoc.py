"""YAML documents for ``#/pointer`` selection, as vals reads them.

vals parses every fragment's source as YAML; injector does so only for a document that is
not JSON and does not start like JSON (``{``, ``[``, ``"``: those stay strict JSON), and
imports PyYAML only then.

Values are read the way vals' YAML 1.2 parser reads them, and delivered as written:
strings, numbers as their text, ``true``/``false`` as booleans (``yes``/``on`` stay strings,
as in YAML 1.2); ``null``, ``~`` and empty values are null (an error when selected). A
document above 1 MiB, with more than 100,000 nodes (alias bombs), nested too deeply, or not
YAML at all is bad data with a message that shows no part of it.
"""

from __future__ import annotations

from typing import Any

from injector.errors import BadDataError

MAX_BYTES = 1 << 20
MAX_NODES = 100_000
_TAG = "tag:yaml.org,2002:"


class Number(str):
    """A YAML number kept as written (rendered like a JSON number)."""

    __slots__ = ()


def loads(document: bytes, *, reference: str) -> object:
    """Parse one YAML document into dicts, lists, strings, Numbers, booleans and None."""
    if len(document) > MAX_BYTES:
        msg = f"the secret is not JSON, and as YAML above {MAX_BYTES} bytes"
        raise BadDataError(msg, reference=reference)
    import yaml  # type: ignore[import-untyped]  # noqa: PLC0415 - only for a non-JSON document

    try:
        root = yaml.compose(document.decode("utf-8"), Loader=yaml.SafeLoader)
    except RecursionError:
        raise BadDataError("the secret's YAML is nested too deeply", reference=reference) from None
    except (yaml.YAMLError, UnicodeDecodeError):
        raise BadDataError("the secret is neither JSON nor YAML", reference=reference) from None
    budget = [MAX_NODES]
    try:
        return _convert(root, budget, reference)
    except RecursionError:
        raise BadDataError("the secret's YAML is nested too deeply", reference=reference) from None


def _convert(node: Any, budget: list[int], reference: str) -> object:  # noqa: ANN401 - yaml node
    budget[0] -= 1
    if budget[0] < 0:
        raise BadDataError(
            f"the secret's YAML has more than {MAX_NODES} nodes", reference=reference
        )
    if node is None:
        return None
    kind = type(node).__name__
    if kind == "MappingNode":
        return {
            str(_scalar_text(key)): _convert(value, budget, reference) for key, value in node.value
        }
    if kind == "SequenceNode":
        return [_convert(item, budget, reference) for item in node.value]
    return _scalar(node)


def _scalar_text(node: Any) -> object:  # noqa: ANN401 - yaml node
    return node.value if type(node).__name__ == "ScalarNode" else "?"


def _scalar(node: Any) -> object:  # noqa: ANN401 - yaml node
    text, tag = str(node.value), str(node.tag).removeprefix(_TAG)
    if node.style:  # quoted or block scalars are strings
        return text
    if tag == "null":
        return None
    if tag in {"int", "float"}:
        return Number(text)
    if tag == "bool" and text.lower() in {"true", "false"}:
        return text.lower() == "true"
    return text
