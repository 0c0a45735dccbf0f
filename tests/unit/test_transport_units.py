"""injector/backends/transport.py without a server: what goes direct, errors, bodies, pool.

(tests/integration/test_transport_wire.py sends through it to real sockets and compares the bytes
on the wire with the stock session's.)
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
from typing import Any

import pytest
from botocore import exceptions as boto
from botocore.awsrequest import AWSRequest
from botocore.httpsession import URLLib3Session
from urllib3 import exceptions as urllib3_errors

from injector.backends import transport

pytestmark = pytest.mark.unit


def _session(**kwargs: Any) -> transport.DirectSession:
    return transport.DirectSession.adopt(URLLib3Session(**kwargs))


def _request(url: str, body: Any = b"{}", method: str = "POST") -> Any:
    return AWSRequest(method=method, url=url, data=body).prepare()


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1:4566/", ("http", "127.0.0.1", 4566)),
        ("https://ssm.eu-west-1.amazonaws.com/", ("https", "ssm.eu-west-1.amazonaws.com", 443)),
        ("http://s3.amazonaws.com/b/k?versionId=1", ("http", "s3.amazonaws.com", 80)),
        ("https://[::1]:8443/", ("https", "::1", 8443)),
    ],
)
def test_plain_and_tls_urls_go_direct(url: str, address: tuple[str, str, int]) -> None:
    """An http or https URL with a bytes body is sent directly, to its host and port."""
    assert _session()._direct_address(_request(url)) == address


@pytest.mark.parametrize("body", [None, b"", b"x", bytearray(b"x"), "Action=x"])
def test_bodies_held_in_memory_go_direct(body: object) -> None:
    """No body, bytes and text (the query protocol's) are sent directly."""
    assert _session()._direct_address(_request("http://h/", body)) is not None


def test_a_file_body_goes_the_stock_way() -> None:
    """A file-like body (S3 PutObject's, aws-chunked streams) is left to urllib3."""
    request = _request("http://h/", body=io.BytesIO(b"x"), method="PUT")
    assert _session()._direct_address(request) is None


def test_a_proxy_goes_the_stock_way() -> None:
    """A configured proxy for the scheme sends the request the stock way."""
    session = _session(proxies={"https": "http://127.0.0.1:3128"})
    assert session._direct_address(_request("https://h/")) is None
    assert session._direct_address(_request("http://h/")) is not None


def test_a_client_certificate_goes_the_stock_way() -> None:
    """A client certificate (mTLS) is left to urllib3."""
    session = _session(client_cert="/nonexistent/cert.pem")
    assert session._direct_address(_request("https://h/")) is None


def test_other_schemes_go_the_stock_way() -> None:
    """Anything but http and https is not sent directly."""
    assert _session()._direct_address(_request("ftp://h/")) is None


def test_adopting_keeps_the_stock_settings() -> None:
    """The adopted session keeps verify, timeouts and socket options of the one botocore made."""
    stock = URLLib3Session(verify="/ca.pem", timeout=(2, 7), socket_options=[(1, 2, 3)])
    session = transport.DirectSession.adopt(stock)
    assert (session._verify, session._socket_options) == ("/ca.pem", [(1, 2, 3)])
    assert session._timeouts(_request("http://h/")) == (2, 7)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ssl.SSLCertVerificationError("certificate verify failed"), boto.SSLError),
        (TimeoutError("timed out"), boto.ConnectTimeoutError),
        (ConnectionRefusedError(111, "refused"), boto.EndpointConnectionError),
        (socket.gaierror(-2, "Name or service not known"), boto.EndpointConnectionError),
        (ValueError("odd"), boto.HTTPClientError),
    ],
)
def test_connect_failures_become_what_the_stock_session_raises(
    error: Exception, expected: type[Exception]
) -> None:
    """Each way connecting fails is the botocore exception urllib3's path raises for it."""
    assert type(transport._connect_error(error, "http://h/")) is expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ssl.SSLError("bad record mac"), boto.SSLError),
        (TimeoutError("timed out"), boto.ReadTimeoutError),
        (urllib3_errors.ReadTimeoutError(None, "u", "Read timed out."), boto.ReadTimeoutError),  # type: ignore[arg-type]
        (http.client.RemoteDisconnected("closed"), boto.ConnectionClosedError),
        (ConnectionResetError(104, "reset"), boto.ConnectionClosedError),
        (urllib3_errors.ProtocolError("Connection broken"), boto.ConnectionClosedError),
        (ValueError("odd"), boto.HTTPClientError),
    ],
)
def test_send_failures_become_what_the_stock_session_raises(
    error: Exception, expected: type[Exception]
) -> None:
    """Each way a sent request fails is the botocore exception urllib3's path raises for it."""
    mapped = transport._transport_error(error, _request("http://h/"))
    assert type(mapped) is expected


class _Response:
    """An http.client response stand-in: reads from *data*, then raises *error* if given."""

    def __init__(self, data: bytes, error: Exception | None = None) -> None:
        self._data = io.BytesIO(data)
        self._error = error
        self.closed = False

    def read(self, amt: int | None = None) -> bytes:
        chunk = self._data.read(amt)
        if not chunk and self._error is not None:
            raise self._error
        if self._data.tell() == len(self._data.getvalue()) and self._error is None:
            self.closed = True
        return chunk

    def isclosed(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


class _Connection:
    def __init__(self) -> None:
        self.sock: object = object()
        self.closed = 0

    def close(self) -> None:
        self.closed += 1
        self.sock = None


def _body(response: _Response) -> tuple[transport._Body, _Connection, list[int]]:
    connection, done = _Connection(), []
    body = transport._Body(response, connection, "http://h/k", lambda: done.append(1))  # type: ignore[arg-type]
    return body, connection, done


def test_a_body_read_to_its_end_hands_the_connection_back_once() -> None:
    """At the end of the body the connection is given back, once; closing then keeps it open."""
    body, connection, done = _body(_Response(b"abcdef"))
    assert b"".join(body.stream(4)) == b"abcdef"
    body.close()
    assert (done, connection.closed) == ([1], 0)


def test_a_body_closed_half_read_closes_its_connection() -> None:
    """Closing a body before its end closes the connection instead of handing it back."""
    body, connection, done = _body(_Response(b"abcdef"))
    assert body.read(2) == b"ab"
    body.close()
    assert (done, connection.closed) == ([], 1)


def test_a_body_that_breaks_off_is_urllib3s_protocol_error_without_its_bytes() -> None:
    """IncompleteRead becomes ProtocolError naming only the class; the bytes travel nowhere."""
    partial = b"sekrit-partial-value"
    body, connection, _ = _body(_Response(b"", http.client.IncompleteRead(partial, 10)))
    with pytest.raises(urllib3_errors.ProtocolError) as caught:
        body.read(100)
    error = caught.value
    assert str(error) == "Connection broken: IncompleteRead"
    assert error.__cause__ is None
    assert error.__context__ is None
    assert connection.closed == 1


def test_a_body_that_times_out_is_urllib3s_read_timeout() -> None:
    """A read timeout is urllib3's ReadTimeoutError (botocore's StreamingBody maps it)."""
    body, connection, _ = _body(_Response(b"", TimeoutError("timed out")))
    with pytest.raises(urllib3_errors.ReadTimeoutError) as caught:
        body.read(100)
    assert caught.value.url == "http://h/k"
    assert connection.closed == 1


def test_at_most_max_pool_connections_are_kept_idle() -> None:
    """Connections handed back beyond max_pool_connections are closed, as urllib3 discards them."""
    session = _session(max_pool_connections=2)
    address = ("http", "h", 80)
    connections = [_Connection() for _ in range(3)]
    for connection in connections:
        session._give_back(address, connection)  # type: ignore[arg-type]
    assert [c.closed for c in connections] == [0, 0, 1]
    assert session._idle[address] == connections[:2]


def test_after_close_nothing_is_kept() -> None:
    """close() closes the idle connections; one handed back later is closed too."""
    session = _session()
    address = ("http", "h", 80)
    first, later = _Connection(), _Connection()
    session._give_back(address, first)  # type: ignore[arg-type]
    session.close()
    session._give_back(address, later)  # type: ignore[arg-type]
    assert (first.closed, later.closed, session._idle) == (1, 1, {})


def test_a_connection_closed_by_its_peer_is_seen_as_closed() -> None:
    """An idle connection whose peer closed it (readable at EOF) is not reused."""
    ours, theirs = socket.socketpair()
    connection = http.client.HTTPConnection("h")
    connection.sock = ours
    try:
        assert transport._open(connection)
        theirs.close()
        assert not transport._open(connection)
    finally:
        ours.close()


def test_a_connection_without_a_socket_counts_as_open() -> None:
    """After "Connection: close" the connection has no socket: connect() opens a new one."""
    assert transport._open(http.client.HTTPConnection("h"))


def test_one_tls_context_serves_every_session_with_the_same_setting(tmp_path: Any) -> None:
    """The CA bundle is loaded once a process, not for every connection as urllib3 does."""
    from tests.support.tls import make_ca

    ca = str(make_ca(tmp_path).ca)
    first = _session(verify=ca)._context("https://h/")
    second = _session(verify=ca)._context("https://other/")
    assert first is second
    assert (first.verify_mode, first.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert first.hostname_checks_common_name is False


def test_no_verification_is_a_context_of_its_own() -> None:
    """verify=False gets a context that checks nothing, apart from the verifying ones."""
    context = _session(verify=False)._context("https://h/")
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_NONE, False)


def test_a_bundle_that_cannot_be_read_is_an_ssl_error_every_time(tmp_path: Any) -> None:
    """A missing CA bundle is botocore's SSLError, and is not remembered as a context."""
    missing = str(tmp_path / "missing.pem")
    for _ in range(2):
        with pytest.raises(boto.SSLError):
            _session(verify=missing)._context("https://h/")
    assert missing not in transport._CONTEXTS


@pytest.mark.parametrize(
    ("direct", "kind"), [(True, transport.DirectSession), (False, URLLib3Session)]
)
def test_clients_send_directly_unless_told_to_use_the_stock_session(
    direct: bool, kind: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clients send through DirectSession; not with direct_http=False (INJECTOR_STOCK_HTTP)."""
    from injector.backends.aws import Clients
    from injector.deadline import Deadline

    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = Clients(Deadline(5), 1, direct_http=direct).get("ssm", "eu-west-1")
    assert type(client._endpoint.http_session) is kind


def test_a_plain_number_is_both_timeouts() -> None:
    """A session made with one number uses it to connect and to read."""
    assert _session(timeout=7)._timeouts(_request("http://h/")) == (7, 7)


def test_a_botocore_error_stays_what_it_is() -> None:
    """A botocore exception raised on the way is passed on unchanged, connecting or sending."""
    error = boto.EndpointConnectionError(endpoint_url="http://h/", error="x")
    assert transport._connect_error(error, "http://h/") is error
    assert transport._transport_error(error, _request("http://h/")) is error


def test_a_connection_whose_socket_was_closed_is_not_open() -> None:
    """An idle connection whose socket has no descriptor left is not reused."""
    ours, theirs = socket.socketpair()
    connection = http.client.HTTPConnection("h")
    connection.sock = ours
    ours.close()
    theirs.close()
    assert not transport._open(connection)


def test_warming_a_plain_http_client_loads_no_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """warm() only loads a context for a client whose endpoint speaks TLS."""
    from injector.backends.aws import Clients
    from injector.deadline import Deadline

    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    client = Clients(Deadline(5), 1).get("ssm", "eu-west-1")
    transport.warm(client)
    assert client._endpoint.http_session._tls is None
