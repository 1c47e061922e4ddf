"""Real Unbound and Knot Resolver, started and stopped through legacy_adapter.

Everything stays on loopback: the references listen on 127.55.0.x:5053, and
the only "Internet" is a tiny signed root zone served by this file on
127.53.250.x:53 (the lifecycle test points its hints at an address where
nothing listens at all). Skipped with a reason when a resolver is not
installed; CI installs both.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import dns.asyncquery
import dns.dnssec
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from legacy_adapter import (
    ManagedResolver,
    PortInUse,
    ReferenceSpec,
    StartFailed,
    probe,
)

pytestmark = pytest.mark.integration

SBIN = "/usr/sbin:/usr/bin:/sbin:/bin"
KINDS = {
    # kind: (Debian package, listen address, outgoing address, fake root address)
    "unbound": ("unbound", "127.55.0.21", "127.55.1.21", "127.53.250.21"),
    "kresd": ("knot-resolver", "127.55.0.22", "127.55.1.22", "127.53.250.22"),
}
PORT = 5053
NOWHERE = "127.53.250.1"  # no server listens here


def need(kind: str) -> None:
    package = KINDS[kind][0]
    if shutil.which(kind, path=SBIN) is None:
        pytest.skip(f"{kind} is not installed (Debian package '{package}')")
    if kind == "unbound" and shutil.which("unbound-control", path=SBIN) is None:
        pytest.skip("unbound-control is not installed (Debian package 'unbound')")


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def lifecycle_spec(kind: str, workdir: Path) -> ReferenceSpec:
    _, listen, outgoing, _ = KINDS[kind]
    return ReferenceSpec(
        kind=kind,  # type: ignore[arg-type]
        listen=listen,
        port=PORT,
        workdir=workdir,
        root_hints=(("a.root-servers.lab.", NOWHERE),),
        validate=False,
        outgoing_address=outgoing,
        cache_size_mb=16,
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_start_probe_flush_stop(tmp_path: Path, kind: str) -> None:
    need(kind)
    spec = lifecycle_spec(kind, tmp_path / kind)
    resolver = ManagedResolver.from_spec(spec)
    version = await resolver.version()
    assert version.startswith(f"{kind} ") and any(c.isdigit() for c in version), version

    async with resolver:
        pid = resolver.pid
        assert pid is not None and is_alive(pid)
        response = await resolver.health_check()
        assert response.rcode() == dns.rcode.NOERROR
        assert "127.0.0.1" in response.answer[0].to_text()

        # Nothing was resolved (the hints point nowhere), so there is no name to flush; both
        # calls answer with a count.  That a flush removes what a resolution cached (the next
        # question goes upstream again) is held by test_resolves_and_validates_through_...
        report = await resolver.flush_all()
        assert isinstance(report.removed, int), report
        report = await resolver.flush_name("www.lab.")
        assert report.removed == 0, report
        stats = await resolver.stats()
        assert stats, "no counters"

        # A second reference on the same address:port must not start.
        second = ManagedResolver.from_spec(dataclasses.replace(spec, workdir=tmp_path / "second"))
        with pytest.raises(PortInUse, match=f"{spec.listen}:{PORT} is already in use"):
            await second.start()
        assert second.pid is None
        # Nor one sharing the workdir, even on another address.
        shared = ManagedResolver.from_spec(dataclasses.replace(spec, port=PORT + 1))
        with pytest.raises(StartFailed, match="belongs to a running resolver"):
            await shared.start()
        assert is_alive(pid)  # the refusals left the first one alone

    assert not is_alive(pid)
    assert resolver.pid is None
    assert resolver.returncode == 0, resolver.log_tail()
    with pytest.raises((OSError, dns.exception.Timeout)):
        await probe(spec.listen, PORT, timeout=0.5)
    assert resolver.log_path.stat().st_size > 0

    # The same workdir starts again cleanly (stale sockets, pidfile, cache).
    async with ManagedResolver.from_spec(spec) as again:
        await again.health_check()


# --- a signed loopback root, to check that the rendered options take effect -------------


def signed_root(authority: str) -> tuple[dns.zone.Zone, str]:
    """A signed root zone holding ``www.lab. A 127.0.0.42``; returns it and its DS."""
    zone = dns.zone.from_text(
        "@ 3600 IN SOA a.root-servers.lab. hostmaster.lab. 1 3600 600 86400 300\n"
        "@ 3600 IN NS a.root-servers.lab.\n"
        f"a.root-servers.lab. 3600 IN A {authority}\n"
        "www.lab. 3600 IN A 127.0.0.42\n",
        origin=dns.name.root,
        relativize=False,
    )
    key = ec.generate_private_key(ec.SECP256R1())
    dnskey = dns.dnssec.make_dnskey(key.public_key(), "ECDSAP256SHA256", flags=257)
    now = time.time()
    dns.dnssec.sign_zone(
        zone, keys=[(key, dnskey)], inception=now - 3600, expiration=now + 86400, dnskey_ttl=3600
    )
    ds = dns.dnssec.make_ds(dns.name.root, dnskey, "SHA256")
    return zone, f". 3600 IN DS {ds.to_text()}"


class FakeRoot(asyncio.DatagramProtocol):
    """Answers from a signed zone over UDP and records who asked what."""

    def __init__(self, zone: dns.zone.Zone) -> None:
        self.zone = zone
        self.names = sorted(zone.nodes)
        self.seen: list[tuple[str, dns.name.Name, dns.rdatatype.RdataType]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def _add(
        self,
        section: list[dns.rrset.RRset],
        name: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        dnssec: bool,
    ) -> bool:
        node = self.zone.get_node(name)
        rdataset = node.get_rdataset(dns.rdataclass.IN, rdtype) if node else None
        if node is None or rdataset is None:
            return False
        section.append(dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset)))
        if dnssec:
            sigs = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, rdtype)
            if sigs is not None:
                section.append(dns.rrset.from_rdata_list(name, sigs.ttl, list(sigs)))
        return True

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        qname, qtype = question.name, question.rdtype
        dnssec = bool(query.ednsflags & dns.flags.DO)
        if dnssec:
            response.want_dnssec(True)  # sets DO on the response
        if self._add(response.answer, qname, qtype, dnssec):
            if qtype == dns.rdatatype.NS:
                self._add(
                    response.additional,
                    dns.name.from_text("a.root-servers.lab."),
                    dns.rdatatype.A,
                    dnssec,
                )
            return response
        exists = any(name.is_subdomain(qname) for name in self.names)
        if not exists:
            response.set_rcode(dns.rcode.NXDOMAIN)
        self._add(response.authority, dns.name.root, dns.rdatatype.SOA, dnssec)
        if dnssec:
            before = max((name for name in self.names if name <= qname), default=dns.name.root)
            self._add(response.authority, before, dns.rdatatype.NSEC, True)
            if not exists and before != dns.name.root:  # the wildcard's denial
                self._add(response.authority, dns.name.root, dns.rdatatype.NSEC, True)
        return response

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        self.seen.append((str(addr[0]), question.name, question.rdtype))
        assert self.transport is not None
        self.transport.sendto(self.answer(query).to_wire(), addr)


@contextlib.asynccontextmanager
async def serve_root(kind: str) -> AsyncIterator[tuple[FakeRoot, str]]:
    """Serve a fresh signed root on this kind's fake root address; yield it and its DS."""
    address = KINDS[kind][3]
    zone, ds = signed_root(address)
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: FakeRoot(zone), local_addr=(address, 53)
        )
    except PermissionError:
        pytest.skip("binding port 53 needs root")
    try:
        yield protocol, ds
    finally:
        transport.close()


def resolution_spec(kind: str, workdir: Path, ds: str, **changes: object) -> ReferenceSpec:
    _, listen, outgoing, root = KINDS[kind]
    fields: dict[str, object] = {
        "kind": kind,
        "listen": listen,
        "port": PORT,
        "workdir": workdir,
        "root_hints": (("a.root-servers.lab.", root),),
        "trust_anchors": (ds,),
        "outgoing_address": outgoing,
        "cache_size_mb": 16,
    }
    fields.update(changes)
    return ReferenceSpec(**fields)  # type: ignore[arg-type]


async def ask(resolver: ManagedResolver, name: str) -> dns.message.Message:
    query = dns.message.make_query(name, "A", want_dnssec=True)
    return await dns.asyncquery.udp(query, resolver.address, port=resolver.port, timeout=5)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("qname_minimisation", [True, False])
async def test_resolves_and_validates_through_loopback_root(
    tmp_path: Path, kind: str, qname_minimisation: bool
) -> None:
    need(kind)
    www = dns.name.from_text("www.lab.")
    async with serve_root(kind) as (root, ds):
        spec = resolution_spec(kind, tmp_path / kind, ds, qname_minimisation=qname_minimisation)
        async with ManagedResolver.from_spec(spec) as resolver:
            response = await ask(resolver, "www.lab.")
            assert response.rcode() == dns.rcode.NOERROR, (response, resolver.log_tail())
            assert "127.0.0.42" in response.answer[0].to_text()
            assert response.flags & dns.flags.AD, "our trust anchor did not validate the answer"
            missing = await ask(resolver, "nothing.lab.")
            assert missing.rcode() == dns.rcode.NXDOMAIN, (missing, resolver.log_tail())
            assert missing.flags & dns.flags.AD

            # flush_name and flush_all each make the next question go upstream again, and
            # flush_all counts what it removed.
            for flush in (resolver.flush_name, resolver.flush_all):
                asked_before = sum(1 for _, name, _ in root.seen if name == www)
                await ask(resolver, "www.lab.")  # from the cache: the root is not asked
                assert sum(1 for _, name, _ in root.seen if name == www) == asked_before
                report = await (flush("www.lab.") if flush == resolver.flush_name else flush())
                await ask(resolver, "www.lab.")
                asked_after = sum(1 for _, name, _ in root.seen if name == www)
                assert asked_after > asked_before, (flush.__name__, report)
            assert report.removed is not None and report.removed > 0, report

    sources = {source for source, _, _ in root.seen}
    assert sources == {spec.outgoing_address}, "outgoing_address not used for every query"
    lab = dns.name.from_text("lab.")
    minimised = [dns.rdatatype.to_text(t) for _, name, t in root.seen if name == lab]
    if qname_minimisation:
        assert minimised, f"{kind} with QNAME minimisation never asked for lab."
    else:
        assert not minimised, f"{kind} without QNAME minimisation asked {minimised} for lab."


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_wrong_anchor_is_bogus_and_validation_off_is_not(tmp_path: Path, kind: str) -> None:
    need(kind)
    async with serve_root(kind) as (_, ds):
        wrong = ds[:-4] + ("0000" if not ds.endswith("0000") else "1111")
        spec = resolution_spec(kind, tmp_path / "wrong", wrong)
        async with ManagedResolver.from_spec(spec) as resolver:
            response = await ask(resolver, "www.lab.")
            assert response.rcode() == dns.rcode.SERVFAIL, (response, resolver.log_tail())
        off = resolution_spec(kind, tmp_path / "off", wrong, validate=False)
        async with ManagedResolver.from_spec(off) as resolver:
            response = await ask(resolver, "www.lab.")
            assert response.rcode() == dns.rcode.NOERROR, (response, resolver.log_tail())
            assert not response.flags & dns.flags.AD


# --- dnstap -----------------------------------------------------------------------------

CONTENT_TYPE = b"protobuf:dnstap.Dnstap"
ACCEPT, START, STOP, READY, FINISH = 1, 2, 3, 4, 5


class FrameStreamsReader:
    """A minimal bidirectional Frame Streams receiver (READY/ACCEPT/START, data, STOP)."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    @staticmethod
    def control(kind: int) -> bytes:
        body = struct.pack("!II", kind, 1) + struct.pack("!I", len(CONTENT_TYPE)) + CONTENT_TYPE
        return struct.pack("!II", 0, len(body)) + body

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = struct.unpack("!I", await reader.readexactly(4))
                if length:
                    self.frames.append(await reader.readexactly(length))
                    continue
                (control_length,) = struct.unpack("!I", await reader.readexactly(4))
                body = await reader.readexactly(control_length)
                (kind,) = struct.unpack("!I", body[:4])
                if kind == READY:
                    writer.write(self.control(ACCEPT))
                elif kind == STOP:
                    writer.write(struct.pack("!III", 0, 4, FINISH))
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_dnstap_gets_client_queries_and_responses(tmp_path: Path, kind: str) -> None:
    need(kind)
    collector = FrameStreamsReader()
    socket_path = tmp_path / "dnstap.sock"
    server = await asyncio.start_unix_server(collector.handle, path=str(socket_path))
    try:
        spec = dataclasses.replace(lifecycle_spec(kind, tmp_path / kind), dnstap_socket=socket_path)
        async with ManagedResolver.from_spec(spec) as resolver:
            await resolver.health_check()
            wire_name = b"\x09localhost\x00"
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if sum(wire_name in frame for frame in collector.frames) >= 2:
                    break
                await asyncio.sleep(0.1)
        tapped = [frame for frame in collector.frames if wire_name in frame]
        assert len(tapped) >= 2, f"{len(collector.frames)} frames, none for localhost"
        assert any(spec.identity.encode() in frame for frame in tapped)
    finally:
        server.close()
        await server.wait_closed()
