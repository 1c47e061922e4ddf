"""Fixtures shared by the integration and system tests: the lab as a real background process.

One lab per test session (it binds port 53 on 127.53.x.y, so there can only be one).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lab.run import LabInfo, LabProcess


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabInfo]:
    """The default lab world, served on 127.53.0.0/16 port 53 for the whole session."""
    if os.geteuid() != 0:
        pytest.skip("the lab binds port 53 on 127.53.x.y: run as root (CI does)")
    proc = LabProcess(Path(tmp_path_factory.mktemp("lab")))
    info = proc.start()
    try:
        yield info
    finally:
        proc.stop()


@pytest.fixture(autouse=True)
def _upstream_only_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The candidate's network transport, in this process, sends only to loopback: a test that
    forgot to point the candidate at the lab or a mock (say, left it on the bundled IANA root
    hints) fails instead of sending a packet to a real server."""
    import ipaddress

    from resolver.conductor.transport import NetworkTransport

    real = NetworkTransport.exchange_wire

    async def exchange_wire(self: NetworkTransport, address: str, wire: bytes, *,
                            tcp: bool, timeout: float) -> bytes:
        if not ipaddress.ip_address(address.partition("@")[0]).is_loopback:  # ip@port too
            raise AssertionError(f"a test made the candidate send to {address} (not loopback)")
        return await real(self, address, wire, tcp=tcp, timeout=timeout)

    monkeypatch.setattr(NetworkTransport, "exchange_wire", exchange_wire)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throw-away CA, a server certificate for ``shadow.test`` / 127.0.0.1 / ::1 it signed,
    a client certificate it signed, and a client certificate from another CA (PEM files)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    out = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    def write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        return path

    def ca(label: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(label)).issuer_name(name(label))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                             False, False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .sign(key, hashes.SHA256()))
        return key, cert

    def leaf(label: str, issuer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
             usage: x509.ObjectIdentifier, prefix: str) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (x509.CertificateBuilder().subject_name(name(label))
                   .issuer_name(issuer[1].subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       issuer[0].public_key()), critical=False)
                   .add_extension(x509.SubjectAlternativeName([
                       x509.DNSName(label), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                       x509.IPAddress(ipaddress.ip_address("::1"))]), critical=False))
        cert = builder.sign(issuer[0], hashes.SHA256())
        (out / f"{prefix}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        write_key(key, out / f"{prefix}.key")

    good, other = ca("shadowdns test CA"), ca("another CA")
    (out / "ca.pem").write_bytes(good[1].public_bytes(serialization.Encoding.PEM))
    leaf("shadow.test", good, ExtendedKeyUsageOID.SERVER_AUTH, "server")
    leaf("staging.test", good, ExtendedKeyUsageOID.CLIENT_AUTH, "client")
    leaf("intruder.test", other, ExtendedKeyUsageOID.CLIENT_AUTH, "intruder")
    return {k: out / f for k, f in (
        ("ca", "ca.pem"), ("cert", "server.pem"), ("key", "server.key"),
        ("client_cert", "client.pem"), ("client_key", "client.key"),
        ("intruder_cert", "intruder.pem"), ("intruder_key", "intruder.key"))}


def _stop(proc: subprocess.Popen[bytes], sig: int = 15) -> None:
    """Stop a process this test started, by its PID: ``sig`` (SIGTERM), then SIGKILL after
    10 s."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.fixture(scope="session")
def stop_process() -> Callable[..., None]:
    """``stop_process(proc, sig=SIGTERM)``: see :func:`_stop`."""
    return _stop


@pytest.fixture
def tiny_dns() -> Iterator[Callable[..., int]]:
    """Start small UDP DNS servers on 127.0.0.1 for the test; each call returns a port.

    ``tiny_dns()`` answers every query with an A record (192.0.2.1); ``silent=b"slow"``
    never answers names whose first label starts so (queries stay in flight); ``data=False``
    answers NOERROR with no records; ``delay=S`` sends each answer S seconds late.  Every
    server stops when the test ends.
    """
    import socket
    import threading

    import dns.message
    import dns.rrset

    stop = threading.Event()
    started: list[tuple[socket.socket, threading.Thread]] = []
    timers: list[threading.Timer] = []

    def start(silent: bytes | None = None, data: bool = True, delay: float = 0.0) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.2)

        def serve() -> None:
            while not stop.is_set():
                try:
                    wire, peer = sock.recvfrom(4096)
                except TimeoutError:
                    continue
                try:
                    query = dns.message.from_wire(wire)
                except Exception:  # noqa: BLE001 - a test server ignores what it cannot read
                    continue
                name = query.question[0].name
                if silent is not None and name.labels[0].startswith(silent):
                    continue
                response = dns.message.make_response(query)
                if data:
                    response.answer.append(dns.rrset.from_text(name, 300, "IN", "A",
                                                               "192.0.2.1"))
                if delay > 0:
                    timer = threading.Timer(delay, sock.sendto, (response.to_wire(), peer))
                    timer.start()
                    timers.append(timer)
                else:
                    sock.sendto(response.to_wire(), peer)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        started.append((sock, thread))
        return int(sock.getsockname()[1])

    try:
        yield start
    finally:
        stop.set()
        for timer in timers:
            timer.cancel()
        for sock, thread in started:
            thread.join(2)
            sock.close()
