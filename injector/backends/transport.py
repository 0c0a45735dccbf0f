"""How botocore's requests reach the wire: the standard library's http.client, kept alive.

botocore hands every request to its ``URLLib3Session``, which goes through urllib3's pool
manager: a pool lookup under a lock, a queue of connections under another, Retry and Timeout
objects, urllib3's own response object and its decoders. None of it is used by injector's
calls (botocore turns urllib3's retries and decoding off), yet it costs ~0.3-0.4 ms of CPU a
call here (100 secrets against replayed answers: ~6 ms to exec, paired runs of the binary).
Over TLS what counts is the CA bundle: urllib3 loads it for every connection (see
:func:`tls_context`; bench/results.md section 3e).

:class:`DirectSession` is that same session (adopted from the one botocore made, with its
verify setting, proxies, timeouts and socket options) that sends a request itself when it
can: over a kept-alive ``http.client`` connection (one list of idle ones per host, under one
lock; at most ``max_pool_connections`` kept, as urllib3 keeps), written by botocore's own
connection mixin (``AWSConnection``: headers and body in one write, as the stock path
does). The status line and headers are parsed by http.client, as urllib3 has them parsed; TLS
is the ``ssl`` module with botocore's context, the CA bundle botocore names and hostname
checking. Errors are the botocore exceptions the stock session raises, so botocore's retries
and injector's messages see no difference. Anything else goes the stock way: a proxy, a client
certificate, a body that is not bytes (a file, a chunked or ``aws-chunked`` stream). On the
wire the requests are byte-identical to the stock session's, over HTTP and TLS alike
(tests/integration/test_transport_wire.py).
"""

from __future__ import annotations

import http.client
import os
import select
import ssl
import threading
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore import exceptions as boto
from botocore.awsrequest import AWSConnection, AWSResponse
from botocore.httpsession import URLLib3Session, get_cert_path
from urllib3 import HTTPHeaderDict
from urllib3 import exceptions as urllib3_errors
from urllib3.util import Timeout

if TYPE_CHECKING:
    import socket
    from collections.abc import Callable, Iterator

SCHEMES = {"http": 80, "https": 443}
STREAM_CHUNK = 1 << 16
ALPN = ["http/1.1"]  # what urllib3 offers
_CONTEXTS: dict[bool | str, ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()
_BODIES = (bytes, bytearray, str, type(None))
_SESSIONS: weakref.WeakSet[DirectSession] = weakref.WeakSet()


class _Connection(AWSConnection, http.client.HTTPConnection):  # type: ignore[misc]
    """A plain connection written by botocore's mixin (one write; Expect: 100-continue)."""


class _TlsConnection(AWSConnection, http.client.HTTPSConnection):  # type: ignore[misc]
    """The same over TLS (SNI and hostname checking by the ssl module)."""


Address = tuple[str, str, int]  # scheme, host, port


def adopt(client: Any) -> None:  # noqa: ANN401 - a botocore client
    """Make *client* send through a :class:`DirectSession` made from the session it has."""
    endpoint = client._endpoint  # noqa: SLF001 - botocore keeps its session there
    endpoint.http_session = DirectSession.adopt(endpoint.http_session)


class DirectSession(URLLib3Session):  # type: ignore[misc]
    """botocore's URLLib3Session that sends what it can over http.client connections."""

    _lock: threading.Lock
    _idle: dict[Address, list[http.client.HTTPConnection]]
    _tls: ssl.SSLContext | None
    _closed: bool

    @classmethod
    def adopt(cls, stock: URLLib3Session) -> DirectSession:
        """Return a session with *stock*'s settings (and its pools, for what goes the stock way)."""
        session = cls.__new__(cls)
        session.__dict__.update(stock.__dict__)
        session._lock = threading.Lock()  # noqa: SLF001 - set up here as __init__ would
        session._idle = {}  # noqa: SLF001
        session._tls = None  # noqa: SLF001
        session._closed = False  # noqa: SLF001
        _SESSIONS.add(session)
        return session

    def forget_idle(self) -> None:
        """Drop the idle connections without a word to their peers (a forked child's copies)."""
        self._lock = threading.Lock()
        self._idle = {}

    def send(self, request: Any) -> AWSResponse:  # noqa: ANN401 - botocore's AWSPreparedRequest
        """Send *request* directly when nothing about it needs urllib3; else the stock way."""
        address = self._direct_address(request)
        if address is None:
            return super().send(request)
        return self._exchange(request, address)

    def close(self) -> None:
        """Close the idle connections and the stock pools; those in use close when read."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()
        super().close()

    def _direct_address(self, request: Any) -> Address | None:  # noqa: ANN401
        url = request.url
        if self._cert_file is not None or not isinstance(request.body, _BODIES):
            return None
        parsed = urlsplit(url)
        if parsed.scheme not in SCHEMES or not parsed.hostname or parsed.username is not None:
            return None
        if self._proxy_config.proxy_url_for(url):
            return None
        return parsed.scheme, parsed.hostname, parsed.port or SCHEMES[parsed.scheme]

    def _timeouts(self, request: Any) -> tuple[float | None, float | None]:  # noqa: ANN401
        timeout = self._get_request_timeout(request) or self._timeout
        if isinstance(timeout, Timeout):
            return Timeout.resolve_default_timeout(timeout.connect_timeout), timeout.read_timeout
        return timeout, timeout

    def _exchange(self, request: Any, address: Address) -> AWSResponse:  # noqa: ANN401
        url = request.url
        connect, read = self._timeouts(request)
        connection = self._take(address, url, connect)
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        try:
            connection.sock.settimeout(connect)  # urllib3 sends with the connect timeout
            connection.request(request.method, self._path_url(url), body, request.headers)
            connection.sock.settimeout(read)
            response = connection.getresponse()
        except Exception as exc:  # noqa: BLE001 - each becomes botocore's own, as stock does
            connection.close()
            raise _transport_error(exc, request) from None
        headers = HTTPHeaderDict()
        for name, value in response.getheaders():
            headers.add(name, value)
        raw = _Body(response, connection, url, lambda: self._give_back(address, connection))
        answer = AWSResponse(url, response.status, headers, raw)
        if not request.stream_output:
            try:
                answer.content  # noqa: B018 - read it now, as the stock session does
            except urllib3_errors.HTTPError as exc:
                raise _transport_error(exc, request) from None
        return answer

    def _take(
        self, address: Address, url: str, connect: float | None
    ) -> http.client.HTTPConnection:
        """Return an idle connection to *address* still open, or a new one; connected."""
        while True:
            with self._lock:
                idle = self._idle.get(address)
                connection = idle.pop() if idle else None
            if connection is None or _open(connection):
                break
            connection.close()  # closed by the server while it was idle
        if connection is None:
            connection = self._new_connection(address, url, connect)
        if connection.sock is None:
            try:
                _connect(connection, connect, self._socket_options)
            except Exception as exc:  # noqa: BLE001 - each becomes botocore's own, as stock does
                connection.close()
                raise _connect_error(exc, url) from None
        return connection

    def _give_back(self, address: Address, connection: http.client.HTTPConnection) -> None:
        """Keep a connection whose answer was read to its end for the next request."""
        if connection.sock is not None:
            with self._lock:
                idle = None if self._closed else self._idle.setdefault(address, [])
                if idle is not None and len(idle) < self._max_pool_connections:
                    idle.append(connection)
                    return
        connection.close()

    def _new_connection(
        self, address: Address, url: str, connect: float | None
    ) -> http.client.HTTPConnection:
        scheme, host, port = address
        if scheme == "https":
            return _TlsConnection(host, port, timeout=connect, context=self._context(url))
        return _Connection(host, port, timeout=connect)

    def _context(self, url: str) -> ssl.SSLContext:
        """Return the TLS context for this session's verify setting (made once a process)."""
        if self._tls is None:
            self._tls = tls_context(self._verify, self._get_ssl_context, url)
        return self._tls


def _after_fork_in_child() -> None:
    """Make every session of a forked child forget the kept connections of its parent."""
    for session in list(_SESSIONS):
        session.forget_idle()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def tls_context(
    verify: bool | str, make: Callable[[], ssl.SSLContext], url: str = ""
) -> ssl.SSLContext:
    """Return botocore's TLS context with the CA bundle *verify* names loaded: once a process.

    urllib3 loads the bundle into the context again for every connection it opens: certifi's
    (~120 certificates, what botocore trusts by default) takes ~17 ms of CPU each time here,
    which with 100 secrets over TLS was most of the start. Every session with the same
    setting shares one context (contexts are safe to share between threads, and a forked
    child inherits it loaded).
    """
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(verify)
        if context is None:
            context = make()
            try:
                if verify:
                    context.load_verify_locations(cafile=get_cert_path(verify))
                    context.hostname_checks_common_name = False
                    context.check_hostname = True
                else:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                context.set_alpn_protocols(ALPN)
            except (OSError, ValueError) as exc:
                raise boto.SSLError(endpoint_url=url, error=exc) from None
            _CONTEXTS[verify] = context
        return context


def warm(client: Any) -> None:  # noqa: ANN401 - a botocore client
    """Load the TLS context *client* will use now, if it speaks TLS (before a fork)."""
    session = client._endpoint.http_session  # noqa: SLF001 - see adopt
    if isinstance(session, DirectSession) and client.meta.endpoint_url.startswith("https:"):
        session._context(client.meta.endpoint_url)  # noqa: SLF001


def _connect(
    connection: http.client.HTTPConnection, timeout: float | None, options: list[tuple[int, ...]]
) -> None:
    """Connect (and shake hands) within *timeout*; set botocore's socket options."""
    connection.timeout = timeout
    connection.connect()
    sock: socket.socket = connection.sock
    for option in options:
        sock.setsockopt(*option)


def _open(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle kept-alive connection is still open (urllib3 checks the same way)."""
    sock = connection.sock
    if sock is None:
        return True  # closed after a "Connection: close" answer: connect() opens it again
    poller = select.poll()
    try:
        poller.register(sock, select.POLLIN)
        return not poller.poll(0)  # an idle connection with something to read was closed
    except (OSError, ValueError):  # a socket closed under it (no file descriptor left)
        return False


class _Body:
    """The answer's body as botocore reads it from urllib3's response (read, stream, close)."""

    def __init__(
        self,
        response: http.client.HTTPResponse,
        connection: http.client.HTTPConnection,
        url: str,
        done: Callable[[], None],
    ) -> None:
        """Read from *response*; call *done* at its end, close *connection* if it breaks."""
        self._response = response
        self._connection = connection
        self._url = url
        self._done: Callable[[], None] | None = done

    def read(self, amt: int | None = None, **_: object) -> bytes:
        """Read up to *amt* bytes (all when None); errors are urllib3's, as botocore expects."""
        try:
            data = self._response.read(amt)
        except TimeoutError:
            failure = None
        except (http.client.HTTPException, OSError) as exc:
            failure = type(exc).__name__
        else:
            if self._done is not None and self._response.isclosed():
                done, self._done = self._done, None
                done()  # read to its end: the connection can take the next request
            return data
        # Raised out here, not from the exception: an IncompleteRead holds the bytes read
        # so far, and nothing of it may travel on as a cause or context.
        self._connection.close()
        if failure is None:
            raise urllib3_errors.ReadTimeoutError(None, self._url, "Read timed out.")  # type: ignore[arg-type]
        raise urllib3_errors.ProtocolError(f"Connection broken: {failure}")

    def stream(self, amt: int = STREAM_CHUNK, **_: object) -> Iterator[bytes]:
        """Yield the body in chunks of at most *amt* bytes."""
        while chunk := self.read(amt):
            yield chunk

    def close(self) -> None:
        """Close the body; a half-read one takes its connection with it."""
        if self._done is not None:
            self._done = None
            self._connection.close()
        self._response.close()

    def release_conn(self) -> None:
        """Nothing to hand back here: the end of the body did (see read)."""


def _connect_error(exc: Exception, url: str) -> Exception:
    """Return the botocore exception the stock session raises when connecting fails so.

    (A TLS handshake that times out is ConnectTimeoutError here; urllib3 calls it a read
    timeout. Both are retried by botocore and both say the store could not be reached.)
    """
    mapped: Exception
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        mapped = boto.SSLError(endpoint_url=url, error=exc)
    elif isinstance(exc, TimeoutError):
        mapped = boto.ConnectTimeoutError(endpoint_url=url, error=exc)
    elif isinstance(exc, OSError):
        mapped = boto.EndpointConnectionError(endpoint_url=url, error=exc)
    elif isinstance(exc, boto.BotoCoreError):
        mapped = exc
    else:
        mapped = boto.HTTPClientError(error=exc)
    return mapped


def _transport_error(exc: Exception, request: Any) -> Exception:  # noqa: ANN401
    """Return the botocore exception the stock session raises when a sent request fails so."""
    url = request.url
    mapped: Exception
    if isinstance(exc, ssl.SSLError):
        mapped = boto.SSLError(endpoint_url=url, error=exc)
    elif isinstance(exc, TimeoutError | urllib3_errors.ReadTimeoutError):
        mapped = boto.ReadTimeoutError(endpoint_url=url, error=exc)
    elif isinstance(exc, http.client.HTTPException | OSError | urllib3_errors.ProtocolError):
        mapped = boto.ConnectionClosedError(error=exc, request=request, endpoint_url=url)
    elif isinstance(exc, boto.BotoCoreError):
        mapped = exc
    else:
        mapped = boto.HTTPClientError(error=exc)
    return mapped
