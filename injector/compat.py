"""Where a reference's text means something else in vals: the warnings ``check`` prints.

README "vals compatibility" has the whole table; these are the forms a plan can contain
whose meaning differs (everything else either means the same or is refused with an error).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from injector import inline

if TYPE_CHECKING:
    from injector.plan import Plan
    from injector.references import Reference

_REF_PREFIXES = ("ref+", "secretref+")


class Difference(NamedTuple):
    """One reference whose text vals would read differently."""

    reference: str
    message: str


def warnings(the_plan: Plan) -> list[Difference]:
    """Return one warning per reference (in plan order) whose meaning differs from vals'."""
    found: dict[str, Difference] = {}
    for ref in _references(the_plan):
        message = differs(ref)
        if message and ref.text not in found:
            found[ref.text] = Difference(str(ref), message)
    return list(found.values())


def differs(ref: Reference) -> str | None:
    """Say how vals would read *ref* differently, or None when it reads it the same."""
    text = ref.text
    if not text.startswith(_REF_PREFIXES):
        return None  # an ECS ARN: not a vals expression at all
    if (
        inline.EXPRESSION.fullmatch(text) is None
        and inline.EXPRESSION.fullmatch(text + "+") is None
    ):
        if "+" in text.split("://", 1)[-1]:
            return "vals ends an expression at '+' (injector reads the whole value; write %2B)"
        return "vals does not read this text as an expression (it would stay literal)"
    if ref.pointer and "~" in ref.pointer:
        return "vals splits a fragment at '/' without RFC 6901's ~0/~1 escapes"
    return None


def _references(the_plan: Plan) -> list[Reference]:
    refs = [d.reference for d in the_plan.deliveries if not d.trim]  # trim: the seed form
    for item in the_plan.inline:
        refs.extend(item.references())
    refs.extend(the_plan.env_files)
    refs.extend(entry.reference for entry in the_plan.env_from)
    return refs
