"""TLS in front of moto: a test CA made at test time and a TLS-terminating relay on 127.0.0.1.

``make_ca(directory)`` writes ``ca.pem`` (the CA certificate, what ``AWS_CA_BUNDLE`` names),
``server.pem`` and ``server.key`` (a certificate for 127.0.0.1 and localhost signed by that
CA). ``TlsRelay(upstream, files).start()`` accepts TLS on a random port of 127.0.0.1 and relays
the decrypted bytes to *upstream* (moto's plain HTTP), so every AWS call of a test speaks TLS
exactly as it does against AWS; ``url`` is ``https://127.0.0.1:PORT``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.loopback import HOST, LoopbackServer

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class TlsFiles:
    """Where make_ca wrote the CA certificate and the server's certificate and key."""

    ca: Path
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _alternative(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def make_ca(
    directory: Path, name: str = "injector test CA", hosts: tuple[str, ...] = ("localhost", HOST)
) -> TlsFiles:
    """Create a CA and a server certificate for *hosts* (names or IP addresses) in *directory*."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - DAY)
        .not_valid_after(now + DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName([_alternative(host) for host in hosts])
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - DAY)
        .not_valid_after(now + DAY)
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


class TlsRelay(LoopbackServer):
    """Terminate TLS on 127.0.0.1 and relay each connection to a plain upstream."""

    SCHEME = "https"
    NAME = "tls-relay"

    def __init__(self, upstream: str, files: TlsFiles) -> None:
        """Relay to *upstream* (``http://127.0.0.1:PORT``) with *files*' certificate."""
        super().__init__()
        parts = urllib.parse.urlsplit(upstream)
        self.upstream = (parts.hostname or HOST, parts.port or 80)
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(files.cert, files.key)
        self.handshakes_failed = 0

    def _serve(self, client: socket.socket) -> None:
        try:
            secure = self._context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            with self._lock:
                self.handshakes_failed += 1
            client.close()
            return
        upstream = socket.create_connection(self.upstream)
        self.track(secure, upstream)
        threading.Thread(target=_pipe, args=(upstream, secure), daemon=True).start()
        _pipe(secure, upstream)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes from *source* to *sink* until either side ends, then close both."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.close()
