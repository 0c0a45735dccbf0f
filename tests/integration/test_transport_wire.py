"""injector's HTTP session (injector/backends/transport.py) against real sockets on 127.0.0.1.

The requests it writes are compared byte for byte with the stock urllib3 session's, over
plain HTTP and over TLS, for every operation injector calls; then its connection handling
(kept alive, replaced when the server closed it, never reused half read) and its failures,
each of which must be the botocore exception the stock session raises.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.auth
import pytest
from botocore import exceptions as boto
from botocore.config import Config
from botocore.httpsession import URLLib3Session

from injector.backends import aws, transport
from injector.deadline import Deadline
from tests.support import signing, wire
from tests.support.tls import TlsRelay, make_ca

Run = tuple[list[bytes], list[Any]]
CONFIG = Config(**signing.CLIENT_CONFIG)
QUICK = Config(connect_timeout=1, read_timeout=0.5, retries={"total_max_attempts": 1})


@pytest.fixture
def recorder() -> Iterator[wire.Recorder]:
    """Return a started recording server; stopped after the test."""
    server = wire.Recorder().start()
    yield server
    server.stop()


@pytest.fixture
def fixed(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Return a function that restarts the uuids botocore draws; the clock is fixed."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *_a, **_k: signing.NOW)

    def restart() -> None:
        counter = itertools.count(1)
        monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(counter)))

    return restart


def _session() -> Any:
    """Injector's session (aws._session: the stubs, its parser settings and body check)."""
    session = aws._session()
    signing.fix_session(session)
    return session


def _client(
    url: str, service: str = "ssm", *, direct: bool = True, config: Config = QUICK, **kw: Any
) -> Any:
    client = _session().create_client(
        service, region_name="eu-west-1", endpoint_url=url, config=config, **kw
    )
    if direct:
        transport.adopt(client)
    return client


def _every_case(recorder: wire.Recorder, url: str, *, direct: bool, **kw: Any) -> Run:
    """Send every case of tests/support/signing.py; return the bytes received and the results."""
    recorder.requests.clear()
    session = _session()
    results = []
    for service, region, op, params, status, headers, body in signing.CASES:
        recorder.script = lambda _r, s=status, h=headers, b=body: (wire.answer(s, h, b), wire.KEEP)
        client = session.create_client(
            service, region_name=region, endpoint_url=url, config=CONFIG, **kw
        )
        if direct:
            transport.adopt(client)
        try:
            results.append(signing._plain(getattr(client, signing._snake(op))(**params)))
        except boto.ClientError as exc:
            results.append({"error": type(exc).__name__, "response": signing._plain(exc.response)})
    return list(recorder.requests), results


def _stock_only_for_streams(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Let only requests with a file-like body (S3 PutObject's) go the stock way; list them."""
    stock = URLLib3Session.send
    went: list[str] = []

    def only_streams(session: URLLib3Session, request: Any) -> Any:
        if isinstance(request.body, bytes | bytearray | str | None):
            pytest.fail(f"{request.method} {request.url} went the stock way")
        went.append(request.method)
        return stock(session, request)

    monkeypatch.setattr(URLLib3Session, "send", only_streams)
    return went


def test_every_request_is_byte_identical_on_the_wire(
    recorder: wire.Recorder, fixed: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each operation reaches the server as the same bytes, and parses the same, both ways."""
    fixed()
    stock = _every_case(recorder, recorder.url, direct=False)
    fixed()
    went = _stock_only_for_streams(monkeypatch)
    direct = _every_case(recorder, recorder.url, direct=True)
    assert len(stock[0]) == len(signing.CASES)
    assert direct == stock
    assert went == ["PUT"]  # S3 PutObject: botocore makes its body a file


def test_every_request_is_byte_identical_over_tls(
    recorder: wire.Recorder,
    fixed: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Through a TLS relay trusting the test CA, the decrypted requests are the same too."""
    files = make_ca(tmp_path)
    relay = TlsRelay(recorder.url, files).start()
    try:
        fixed()
        stock = _every_case(recorder, relay.url, direct=False, verify=str(files.ca))
        fixed()
        _stock_only_for_streams(monkeypatch)
        direct = _every_case(recorder, relay.url, direct=True, verify=str(files.ca))
    finally:
        relay.stop()
    assert len(stock[0]) == len(signing.CASES)
    assert direct == stock


def _parameter(value: str = "v") -> bytes:
    body = f'{{"Parameters":[{{"Name":"/a","Type":"String","Value":"{value}"}}]}}'
    return wire.answer(200, {"Content-Type": "application/x-amz-json-1.1"}, body.encode())


def _get(client: Any) -> str:
    return str(client.get_parameters(Names=["/a"])["Parameters"][0]["Value"])


def test_one_connection_serves_every_request_in_turn(recorder: wire.Recorder) -> None:
    """Requests one after another share one kept-alive connection."""
    recorder.script = lambda _r: (_parameter(), wire.KEEP)
    client = _client(recorder.url)
    assert [_get(client) for _ in range(3)] == ["v", "v", "v"]
    assert recorder.connections == 1


def test_a_connection_the_server_closed_while_idle_is_replaced(recorder: wire.Recorder) -> None:
    """A kept connection the server has since closed is not written to: a new one is made."""
    recorder.script = lambda _r: (_parameter(), wire.CLOSE)
    client = _client(recorder.url)
    assert _get(client) == "v"
    time.sleep(0.1)  # the server's FIN arrives
    assert _get(client) == "v"
    assert (len(recorder.requests), recorder.connections) == (2, 2)  # no attempt was lost


def test_an_answer_saying_connection_close_is_followed_by_a_new_connection(
    recorder: wire.Recorder,
) -> None:
    """After "Connection: close" the next request connects again."""
    body = b'{"Parameters":[{"Name":"/a","Type":"String","Value":"v"}]}'
    closing = wire.answer(200, {"Connection": "close"}, body)
    recorder.script = lambda _r: (closing, wire.CLOSE)
    client = _client(recorder.url)
    assert [_get(client), _get(client)] == ["v", "v"]
    assert recorder.connections == 2


def test_a_body_left_half_read_does_not_leave_its_connection_for_the_next(
    recorder: wire.Recorder,
) -> None:
    """An object closed before its end takes its connection with it; the next call is whole."""
    big = b"x" * 300_000
    recorder.script = lambda _r: (wire.answer(200, {}, big), wire.KEEP)
    client = _client(recorder.url, "s3")
    body = client.get_object(Bucket="b", Key="k")["Body"]
    assert body.read(10) == b"x" * 10
    body.close()
    assert client.get_object(Bucket="b", Key="k")["Body"].read() == big
    assert recorder.connections == 2


def test_an_object_read_to_its_end_leaves_the_connection_for_the_next(
    recorder: wire.Recorder,
) -> None:
    """A streamed body read to its end hands the connection back."""
    recorder.script = lambda _r: (wire.answer(200, {}, b"value"), wire.KEEP)
    client = _client(recorder.url, "s3")
    for _ in range(3):
        assert client.get_object(Bucket="b", Key="k")["Body"].read() == b"value"
    assert recorder.connections == 1


def _failure(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(boto.BotoCoreError) as caught:
        call()
    return type(caught.value).__name__, str(caught.value).split(":")[0]


def _both_ways(url: str, service: str, call: Callable[[Any], object]) -> list[tuple[str, str]]:
    return [
        _failure(lambda d=direct: call(_client(url, service, direct=d))) for direct in (False, True)
    ]


def test_a_buffered_answer_cut_short_fails_as_the_stock_session_fails(
    recorder: wire.Recorder,
) -> None:
    """A JSON answer that breaks off before its Content-Length is the same error both ways.

    (urllib3 returns what arrived; injector's before-parse check refuses it as cut short.)
    """
    cut = _parameter()[:-5]
    recorder.script = lambda _r: (cut, wire.CLOSE)
    outcomes = _both_ways(recorder.url, "ssm", _get)
    assert outcomes[0][0] == "IncompleteReadError"
    assert outcomes[1] == outcomes[0]


def test_an_object_cut_short_fails_as_the_stock_session_fails(recorder: wire.Recorder) -> None:
    """An object body that breaks off is the same error both ways, raised while reading it."""
    cut = wire.answer(200, {"Content-Length": "100"}, b"x" * 40)
    recorder.script = lambda _r: (cut, wire.CLOSE)

    def read(client: Any) -> bytes:
        return bytes(client.get_object(Bucket="b", Key="k")["Body"].read())

    outcomes = _both_ways(recorder.url, "s3", read)
    assert outcomes[0][0] in {"ResponseStreamingError", "IncompleteReadError"}
    assert outcomes[1] == outcomes[0]


def test_a_buffered_answer_broken_by_a_reset_fails_as_the_stock_session_fails(
    recorder: wire.Recorder,
) -> None:
    """A connection reset while the body is read is ConnectionClosedError both ways."""
    cut = _parameter()[:-5]
    recorder.script = lambda _r: (cut, wire.RESET)
    outcomes = _both_ways(recorder.url, "ssm", _get)
    assert outcomes[0][0] == "ConnectionClosedError"
    assert outcomes[1] == outcomes[0]


def test_a_server_that_never_answers_is_a_read_timeout(recorder: wire.Recorder) -> None:
    """No answer within read_timeout is ReadTimeoutError both ways."""
    recorder.script = lambda _r: (b"", wire.HANG)
    outcomes = _both_ways(recorder.url, "ssm", _get)
    assert outcomes == [outcomes[0], outcomes[0]]
    assert outcomes[0][0] == "ReadTimeoutError"


def test_nothing_listening_is_a_connection_error() -> None:
    """A refused connection is EndpointConnectionError both ways."""
    listener = wire.Recorder()
    url = listener.url
    listener.stop()  # the port is free again: nothing listens there
    outcomes = _both_ways(url, "ssm", _get)
    assert outcomes == [("EndpointConnectionError", "Could not connect to the endpoint URL")] * 2


def test_a_proxy_is_left_to_the_stock_session(recorder: wire.Recorder) -> None:
    """With a proxy configured the request goes the stock way, to the proxy, in absolute form."""
    recorder.script = lambda _r: (_parameter(), wire.KEEP)
    proxied = Config(proxies={"http": recorder.url}, retries={"total_max_attempts": 1})
    client = _client("http://127.0.0.1:9", config=proxied)
    assert _get(client) == "v"
    assert recorder.requests[0].startswith(b"POST http://127.0.0.1:9/ HTTP/1.1\r\n")


def test_a_proxy_from_the_environment_is_left_to_the_stock_session(
    recorder: wire.Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY, read by botocore when the client is made, sends requests to the proxy."""
    recorder.script = lambda _r: (_parameter(), wire.KEEP)
    monkeypatch.setenv("HTTP_PROXY", recorder.url)
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert _get(_client("http://127.0.0.1:9")) == "v"
    assert recorder.requests[0].startswith(b"POST http://127.0.0.1:9/ HTTP/1.1\r\n")


def test_concurrent_requests_each_get_their_own_answer(recorder: wire.Recorder) -> None:
    """Many threads at once: every answer reaches the request it belongs to."""

    def echo(request: bytes) -> tuple[bytes, str]:
        name = request.split(b'"Names": ["', 1)[1].split(b'"', 1)[0].decode()
        return _parameter(name), wire.KEEP

    recorder.script = echo
    client = _client(recorder.url, config=CONFIG)
    names = [f"/p{i}" for i in range(64)]
    results: dict[str, str] = {}

    def work(chunk: list[str]) -> None:
        for name in chunk:
            results[name] = client.get_parameters(Names=[name])["Parameters"][0]["Value"]

    threads = [threading.Thread(target=work, args=(names[i::16],)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {name: name for name in names}
    assert recorder.connections <= 16


def test_closing_the_session_closes_its_idle_connections(recorder: wire.Recorder) -> None:
    """close() closes what is kept: the server sees the connection end."""
    recorder.script = lambda _r: (_parameter(), wire.KEEP)
    client = _client(recorder.url)
    _get(client)
    session = client._endpoint.http_session
    (kept,) = session._idle.values()
    session.close()
    assert kept[0].sock is None
    assert session._idle == {}


@pytest.fixture
def tls(recorder: wire.Recorder, tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """Return (relay URL, the CA it is signed by, a CA it is not signed by)."""
    recorder.script = lambda _r: (_parameter(), wire.KEEP)
    files = make_ca(tmp_path / "good")
    other = make_ca(tmp_path / "other", name="another CA")
    relay = TlsRelay(recorder.url, files).start()
    yield relay.url, files.ca, other.ca
    relay.stop()


def test_tls_trusting_the_bundle_works(tls: tuple[str, Path, Path]) -> None:
    """With the CA bundle that signed the server's certificate, the answer arrives."""
    url, ca, _ = tls
    assert _get(_client(url, verify=str(ca))) == "v"


def test_tls_with_another_bundle_is_an_ssl_error_both_ways(tls: tuple[str, Path, Path]) -> None:
    """An untrusted certificate is SSLError naming the verify failure, both ways."""
    url, _, other = tls
    errors = []
    for direct in (False, True):
        with pytest.raises(boto.SSLError) as caught:
            _get(_client(url, direct=direct, verify=str(other)))
        errors.append("CERTIFICATE_VERIFY_FAILED" in str(caught.value))
    assert errors == [True, True]


def test_tls_certificate_for_another_name_is_refused(
    recorder: wire.Recorder, tmp_path: Path
) -> None:
    """A certificate not naming 127.0.0.1 is refused both ways, though its CA is trusted."""
    recorder.script = lambda _r: (_parameter(), wire.KEEP)
    files = make_ca(tmp_path, hosts=("elsewhere.test",))
    relay = TlsRelay(recorder.url, files).start()
    try:
        for direct in (False, True):
            with pytest.raises(boto.SSLError):
                _get(_client(relay.url, direct=direct, verify=str(files.ca)))
    finally:
        relay.stop()


def test_tls_without_verification_accepts_any_certificate(tls: tuple[str, Path, Path]) -> None:
    """verify=False (AWS's --no-verify-ssl) is honoured as the stock session honours it."""
    url, _, _ = tls
    assert _get(_client(url, verify=False)) == "v"


def test_the_ca_bundle_is_read_once_for_every_client_and_connection(
    tls: tuple[str, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two clients, new connections each time: the bundle is loaded once (urllib3: each time)."""
    url, ca, _ = tls
    transport._CONTEXTS.pop(str(ca), None)
    loads: list[object] = []
    real = transport.get_cert_path
    monkeypatch.setattr(transport, "get_cert_path", lambda v: loads.append(v) or real(v))
    for _ in range(2):
        client = _client(url, verify=str(ca))
        for _ in range(2):
            assert _get(client) == "v"
            client._endpoint.http_session.close()
    assert loads == [str(ca)]


def test_preparing_for_a_fork_loads_the_tls_context(
    tls: tuple[str, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clients.prepare loads the CA bundle before the fork, so the child inherits it loaded."""
    url, ca, _ = tls
    transport._CONTEXTS.pop(str(ca), None)
    for name, value in {
        "AWS_ENDPOINT_URL": url,
        "AWS_CA_BUNDLE": str(ca),
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": "eu-west-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    clients = aws.Clients(Deadline(10), 4)
    assert clients.prepare([("ssm", None)])
    assert str(ca) in transport._CONTEXTS


def test_a_forked_child_forgets_the_kept_connections_and_the_parent_keeps_them(
    recorder: wire.Recorder,
) -> None:
    """After a fork the child has no idle connection to write to; the parent's still works."""
    recorder.script = lambda _r: (_parameter(), wire.KEEP)
    client = _client(recorder.url)
    _get(client)
    session = client._endpoint.http_session
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        os._exit(0 if session._idle == {} else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert _get(client) == "v"
    assert recorder.connections == 1
