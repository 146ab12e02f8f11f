"""A PostgreSQL that accepts TLS connections only, with a certificate authority the test makes.

Neon requires TLS (`sslmode=require`, or `verify-full` against a CA). The embedded wheel
is built without OpenSSL, so this server is Debian's PostgreSQL (installed with apt as
root when missing; the tests are skipped with a message otherwise).
"""

from __future__ import annotations

import datetime
import ipaddress
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from storage.migrate import migrate
from tests.local_postgres import LocalPostgres, give_to
from tests.system_packages import require, unprivileged_user

TLS_ONLY = """\
local     all all              trust
hostssl   all all 127.0.0.1/32 trust
hostnossl all all 127.0.0.1/32 reject
"""


@attrs.frozen
class Authority:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_authority(common_name: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name(common_name)).issuer_name(name(common_name))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Authority(key, certificate)


def server_certificate(authority: Authority) -> tuple[bytes, bytes]:
    """A certificate for localhost and 127.0.0.1 signed by `authority`, and its key (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(authority.certificate.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(authority.key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


@attrs.frozen
class TlsPostgres:
    server: LocalPostgres
    ca_file: Path  # the authority that signed the server's certificate
    wrong_ca_file: Path  # an authority that did not

    def url(self, sslmode: str, host: str = "127.0.0.1", ca_file: Path | None = None) -> str:
        url = f"postgresql://postgres@{host}:{self.server.port}/postgres?sslmode={sslmode}&connect_timeout=3"
        return url + (f"&sslrootcert={ca_file}" if ca_file else "")


@pytest.fixture(scope="session")
def tls_postgres() -> Iterator[TlsPostgres]:
    binary = require(["/usr/lib/postgresql/*/bin/postgres"], "postgresql")
    directory = Path(tempfile.mkdtemp(prefix="todo-pg-tls-"))
    authority, stranger = make_authority("todo-api test CA"), make_authority("someone else's CA")
    certificate, key = server_certificate(authority)
    files = {"server.crt": certificate, "server.key": key, "ca.pem": authority.pem(), "wrong-ca.pem": stranger.pem()}
    for file_name, content in files.items():
        (directory / file_name).write_bytes(content)
        (directory / file_name).chmod(0o600 if file_name.endswith(".key") else 0o644)
    settings = {"ssl": "on", "ssl_cert_file": str(directory / "server.crt"),
                "ssl_key_file": str(directory / "server.key")}
    give_to(unprivileged_user(), directory)  # the key must belong to the server's user
    server = LocalPostgres(directory / "server", bin_dir=Path(binary).parent, settings=settings, hba=TLS_ONLY)
    tls = TlsPostgres(server, directory / "ca.pem", directory / "wrong-ca.pem")
    migrate(tls.url("require"))
    yield tls
    server.remove()
