"""SSM Parameter Store paths: every parameter below a path, with GetParametersByPath.

``ref+awsssm://PATH/[?recursive=true]`` (only in ``INJECTOR_ENV_FROM``), and vals' form
``ref+awsssm://PREFIX[?recursive=true]#/NAME`` (the parameters below PREFIX as a tree, the
pointer picking one; ``tree`` option) are read page by page
(WithDecryption, every page, inside the deadline). The answer is carried on as a JSON object
mapping each parameter's name below the path (``db/user``) to its value; expansion turns
those names into variables. A path with no parameter is "not found" (66, unless optional).
GetParametersByPath's rate limit is far lower than GetParameters': throttling is retried by
botocore's retry mode with backoff (see aws.py), and the deadline bounds the whole walk.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from injector.backends.aws import call
from injector.backends.errors import translate
from injector.errors import BadDataError, InjectorError, SecretNotFoundError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from injector.backends import Batch
    from injector.backends.aws import Clients
    from injector.references import Source

MAX_RESULTS = 10  # the API's largest page
MAX_PAGES = 10_000  # 100,000 parameters: far above any account's limit, a bound on a loop
Outcome = dict["Source", "bytes | InjectorError"]


def label(source: Source) -> str:
    """Render the reference for messages."""
    return f"ref+awsssm://{source.name.strip('/')}/"


def batches(sources: Sequence[Source], clients: Clients) -> list[Batch]:
    """One walk per path: pages must be read one after the other (NextToken)."""
    return [_batch(source, clients) for source in sources]


def _batch(source: Source, clients: Clients) -> Batch:
    def run() -> Outcome:
        try:
            return {source: encode(source, walk(source, clients))}
        except Exception as exc:  # noqa: BLE001 - every failure becomes a reported outcome
            return {source: translate(exc, label(source))}

    return run


def walk(source: Source, clients: Clients) -> dict[str, str]:
    """Return ``{full parameter name: value}`` for every parameter below the path."""
    client = clients.get("ssm", source.region, reference=label(source))
    params: dict[str, Any] = {
        "Path": source.name,
        "Recursive": source.option("recursive") == "true",
        "WithDecryption": True,
        "MaxResults": MAX_RESULTS,
    }
    found: dict[str, str] = {}
    seen_tokens: set[str] = set()
    for _ in range(MAX_PAGES):
        clients.deadline.check(label(source))
        page = call(clients.deadline, client.get_parameters_by_path, **params)
        for parameter in page.get("Parameters", []):
            found[str(parameter["Name"])] = str(parameter.get("Value", ""))
        token = page.get("NextToken")
        if not token:
            return found
        if token in seen_tokens:
            raise BadDataError("the store repeated a page token", reference=label(source))
        seen_tokens.add(token)
        params["NextToken"] = token
    raise BadDataError(f"more than {MAX_PAGES} pages below the path", reference=label(source))


def relative(path: str, name: str) -> str:
    """Return *name* below *path* (``/prod/app`` + ``/prod/app/db/user`` -> ``db/user``)."""
    prefix = path.rstrip("/") + "/"
    return name[len(prefix) :] if name.startswith(prefix) else name.lstrip("/")


def encode(source: Source, found: dict[str, str]) -> bytes:
    """Carry the parameters on as JSON keyed by their names below the path (or as a tree)."""
    if not found:
        raise SecretNotFoundError("no parameter below the path", reference=label(source))
    flat = {relative(source.name, k): v for k, v in found.items()}
    return json.dumps(tree(flat) if source.option("tree") == "true" else flat).encode()


def tree(flat: dict[str, str]) -> dict[str, object]:
    """Nest ``a/b`` names as vals does: ``{"a": {"b": value}}``; a deeper name wins a clash."""
    root: dict[str, object] = {}
    for name, value in flat.items():
        *parents, leaf = name.split("/")
        node = root
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if not isinstance(node.get(leaf), dict):
            node[leaf] = value
    return root
