"""The botocore session injector uses: what is imported and loaded, and when; nothing else.

botocore stays the credential chain, the signer, the retries and the parser. Two things
are changed, both measured in bench/results.md:

- ``botocore.docs`` (docstrings for ``help()``; imported by botocore.client, .waiter and
  .handlers) is replaced by a stub before botocore is imported. Its stand-ins can be
  created and registered, as botocore does at import and client creation, but rendering
  a docstring or calling a docs handler raises StubbedOutError.
- ``urllib3.http2`` (opt-in HTTP/2, which botocore never turns on) is replaced by a
  package that holds only its real ``probe`` submodule (urllib3.connection imports it):
  the real package imports importlib.metadata (zipfile, csv, email...) just to check h2's
  version. Its two functions raise StubbedOutError.
- The cyclic garbage collector is paused while botocore is imported (see below).
- The regular expressions botocore and urllib3 compile are put into ``re``'s cache first,
  precompiled at build time by packaging/regex_cache.py (the same programs ``re`` makes).
- Service models and endpoint rule sets of the services injector calls come from
  ``injector/_models`` (packaging/trim_models.py generates them at build time from the
  pinned botocore's own files: only the operations called, no documentation) when that
  directory exists and was made from this very botocore version; otherwise, and for every
  other service (sts, sso, ... of the credential chain), botocore's own data is used.
- In the frozen binary both come from ``injector._embedded`` instead (packaging/embed_data.py
  puts the trimmed models and botocore's few data files into one module, read in place
  from the binary, so that no file is written for them at start): botocore's search paths
  (``AWS_DATA_PATH``, ``~/.aws/models``) are still searched first, the embedded files serve
  what they do not hold, as botocore's own data directory would.
"""

from __future__ import annotations

import gc
import gzip
import importlib.util
import json
import os
import sys
import types
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn, Self, SupportsIndex

STUBBED = ("botocore.docs", "botocore.docs.docstring", "botocore.docs.utils")
HTTP2 = "urllib3.http2"
STUB_DOC = "injector's stub of botocore.docs (injector.backends.boto)"
MODELS_DIR = Path(__file__).resolve().parent.parent / "_models"
EMBEDDED = "injector._embedded"
TRIMMED_TYPES = ("service-2", "endpoint-rule-set-1")


class StubbedOutError(RuntimeError):
    """A stubbed botocore module was used: injector's paths must never get here."""


def _refuse(*_args: object, **_kwargs: object) -> NoReturn:
    msg = "botocore.docs is stubbed out in injector (docstrings are not available)"
    raise StubbedOutError(msg)


def _refuse_http2(*_args: object, **_kwargs: object) -> NoReturn:
    msg = "urllib3.http2 is stubbed out in injector (HTTP/2 is not available)"
    raise StubbedOutError(msg)


class _LazyDocstring(str):
    """Stands in for botocore's lazily rendered docstrings: empty, and rendering fails."""

    __slots__ = ()

    def __new__(cls, *_args: object, **_kwargs: object) -> Self:
        """Accept botocore's docstring arguments and keep none of them."""
        return super().__new__(cls)

    def expandtabs(self, tabsize: SupportsIndex = 8) -> NoReturn:  # noqa: ARG002 - str's signature
        """Fail: help() renders a docstring through expandtabs."""
        _refuse()

    def __str__(self) -> NoReturn:  # noqa: PLE0307 - it never returns: it raises
        """Fail: rendering the docstring."""
        _refuse()

    __repr__ = __str__


class _DocsHandler:
    """Stands in for botocore.docs.utils' handler classes: every method fails when called."""

    def __init__(self, *_args: object, **_kwargs: object) -> None:
        """Accept the documentation botocore would have added, and drop it."""

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401 - any bound handler
        """Return a callable that fails (botocore registers these for docs.* events)."""
        if name.startswith("__"):
            raise AttributeError(name)
        return _refuse


def install_stubs() -> tuple[bool, bool]:
    """Put each stub into sys.modules unless its real module is imported; say which went in."""
    docs = not any(name in sys.modules for name in STUBBED)
    if docs:
        _stub_docs()
    http2 = not any(name in sys.modules for name in (HTTP2, "urllib3.connection"))
    return docs, http2 and _stub_http2()


def _stub_http2() -> bool:
    spec = importlib.util.find_spec("urllib3")
    if spec is None or not spec.submodule_search_locations:
        return False
    package = types.ModuleType(HTTP2, "injector's stub of urllib3.http2 (probe is real)")
    package.__path__ = [os.path.join(spec.submodule_search_locations[0], "http2")]
    package.__package__ = HTTP2
    package.inject_into_urllib3 = _refuse_http2  # type: ignore[attr-defined]
    package.extract_from_urllib3 = _refuse_http2  # type: ignore[attr-defined]
    sys.modules[HTTP2] = package
    return True


def _stub_docs() -> None:
    package = types.ModuleType("botocore.docs", STUB_DOC)
    package.__path__ = []  # a package with no files: any other submodule fails to import
    docstring = types.ModuleType("botocore.docs.docstring", "injector's stub")
    for name in (
        "LazyLoadedDocstring",
        "ClientMethodDocstring",
        "WaiterDocstring",
        "PaginatorDocstring",
    ):
        setattr(docstring, name, _LazyDocstring)
    utils = types.ModuleType("botocore.docs.utils", "injector's stub")
    for name in (
        "AppendParamDocumentation",
        "AutoPopulatedParam",
        "DocumentModifiedShape",
        "HideParamFromOperations",
    ):
        setattr(utils, name, _DocsHandler)
    package.docstring = docstring  # type: ignore[attr-defined]
    package.utils = utils  # type: ignore[attr-defined]
    sys.modules.update({m.__name__: m for m in (package, docstring, utils)})


def prime_regex_cache(module: str = "injector._regexes") -> int:
    """Put the build's precompiled patterns into ``re``'s cache; return how many went in.

    *module* is generated by packaging/regex_cache.py; it is used only when made by this
    very interpreter (version and regex engine), else nothing is primed.
    """
    import _sre  # type: ignore[import-not-found]  # noqa: PLC0415 - CPython's regex engine
    import re  # noqa: PLC0415

    try:
        regexes = importlib.import_module(module)
    except ImportError:
        return 0
    if (sys.version, _sre.MAGIC, _sre.CODESIZE) != regexes.KEY:
        return 0
    cache = re._cache  # type: ignore[attr-defined]  # noqa: SLF001 - the cache re.compile reads
    for pattern, flags, final, code, groups, groupindex, indexgroup in regexes.ENTRIES:
        key = (type(pattern), pattern, flags)
        if key not in cache:
            cache[key] = _sre.compile(pattern, final, list(code), groups, groupindex, indexgroup)
    return len(regexes.ENTRIES)


install_stubs()
prime_regex_cache()
# Importing botocore allocates ~100k long-lived objects (modules, functions, classes): the
# cyclic collector would walk them again and again for nothing. It is off while they are
# made, then they are frozen out of its way (gc.freeze) and it runs as usual afterwards.
_GC_WAS_ON = gc.isenabled()
gc.disable()

import botocore  # noqa: E402 - after the stubs
import botocore.session  # noqa: E402
from botocore.exceptions import DataNotFoundError  # noqa: E402
from botocore.loaders import Loader, instance_cache  # noqa: E402

gc.freeze()
if _GC_WAS_ON:
    gc.enable()

# The trimmed models: a directory of files (injector/_models) or the embedded {name: text}.
Models = Path | Mapping[str, str]


def _json(text: str) -> Any:  # noqa: ANN401 - botocore's data
    """Parse as botocore's JSONFileLoader does (key order kept in OrderedDicts)."""
    return json.loads(text, object_pairs_hook=OrderedDict)


def _model_text(models: Models, name: str) -> str | None:
    if isinstance(models, Path):
        path = models / name
        return path.read_text(encoding="utf-8") if path.is_file() else None
    return models.get(name)


def trimmed_services(models: Models) -> dict[str, str]:
    """Return {service: api version} of *models*, empty unless they fit this botocore."""
    try:
        manifest = json.loads(_model_text(models, "manifest.json") or "")
    except (OSError, ValueError):
        return {}
    if manifest.get("botocore") != botocore.__version__:
        return {}
    return {name: entry["api_version"] for name, entry in manifest["services"].items()}


def embedded(module: str = EMBEDDED) -> types.ModuleType | None:
    """Return the build's embedded data module when it fits this botocore, else None."""
    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    return found if getattr(found, "BOTOCORE", None) == botocore.__version__ else None


def _three_parts(name: str, type_name: str) -> list[str] | None:
    parts = name.split("/")
    return parts if len(parts) == 3 and parts[2] == type_name else None  # noqa: PLR2004


class TrimmedLoader(Loader):  # type: ignore[misc]  # botocore is untyped
    """botocore's Loader, reading the trimmed models of *services* from *models*.

    *data* ({botocore data name: text, or a .json.gz file's bytes}, embedded in the frozen
    binary) serves whatever botocore's search paths do not hold, as its own data directory
    would.
    """

    def __init__(
        self,
        models: Models,
        services: dict[str, str],
        data_path: str | None = None,
        data: Mapping[str, str | bytes] | None = None,
    ) -> None:
        """Search botocore's usual paths (``AWS_DATA_PATH`` first) for all but *services*."""
        extra = None
        if data_path is not None:  # as botocore.loaders.create_loader reads it
            extra = [os.path.expanduser(os.path.expandvars(p)) for p in data_path.split(os.pathsep)]
        super().__init__(extra_search_paths=extra)
        self._models = models
        self._trimmed = services
        self._data = dict(data or {})

    @instance_cache  # type: ignore[untyped-decorator]
    def load_service_model(
        self, service_name: str, type_name: str, api_version: str | None = None
    ) -> Any:  # noqa: ANN401 - botocore's model dict
        """Return the trimmed model when there is one, else what botocore would load."""
        version = self._trimmed.get(service_name)
        if version and type_name in TRIMMED_TYPES and api_version in {None, version}:
            text = _model_text(self._models, f"{service_name}/{version}/{type_name}.json")
            if text is not None:
                return _json(text)
        return super().load_service_model(service_name, type_name, api_version)

    def list_available_services(self, type_name: str) -> list[str]:
        """Return botocore's list plus the embedded services that have *type_name*."""
        found = set(super().list_available_services(type_name))
        found |= {p[0] for n in self._data if (p := _three_parts(n, type_name))}
        return sorted(found)

    def list_api_versions(self, service_name: str, type_name: str) -> list[str]:
        """Return botocore's versions plus the embedded ones of *service_name*."""
        try:
            found = set(super().list_api_versions(service_name, type_name))
        except DataNotFoundError:
            found = set()
        found |= {
            p[1] for n in self._data if (p := _three_parts(n, type_name)) and p[0] == service_name
        }
        if not found:
            raise DataNotFoundError(data_path=service_name)
        return sorted(found)

    def load_data_with_path(self, name: str) -> tuple[Any, str]:
        """Return what botocore's search paths hold for *name*, else the embedded file."""
        try:
            return super().load_data_with_path(name)  # type: ignore[no-any-return]
        except DataNotFoundError:
            body = self._data.get(name)
            if body is None:
                raise
            if isinstance(body, bytes):  # a .json.gz file's bytes
                body = gzip.decompress(body).decode("utf-8")
            return _json(body), os.path.join(self.BUILTIN_DATA_PATH, name)


def new_session(models: Path | types.ModuleType | None = None) -> Any:  # noqa: ANN401
    """Return a botocore session that loads the trimmed models when they fit.

    *models*: a directory of trimmed models, or an embedded data module; by default the
    build's ``injector._embedded`` when there is one, else ``injector/_models``.
    ``AWS_DATA_PATH`` and ``~/.aws/models`` still apply to every other service; for the
    trimmed ones the frozen binary has no other model (botocore's files are left out).
    """
    session = botocore.session.get_session()
    module = embedded() if models is None else models
    if isinstance(module, types.ModuleType):
        source: Models = module.MODELS
        data: Mapping[str, str | bytes] = module.BOTOCORE_DATA
    else:
        source, data = (models if isinstance(models, Path) else MODELS_DIR), {}
    services = trimmed_services(source)
    if services:
        loader = TrimmedLoader(source, services, session.get_config_variable("data_path"), data)
        session.register_component("data_loader", loader)
    return session
