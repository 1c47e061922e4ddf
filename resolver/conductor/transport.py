"""Transports move one query to one server and back; the conductor decides everything else.

:class:`NetworkTransport` uses real UDP and TCP sockets (a fresh socket, so a random source
port, per UDP query; an optional egress address).  Its UDP receive loop ignores datagrams
from other addresses or ports or with another ID, so spoofed or stray answers are dropped;
the conductor checks ID and question again for every transport, the mock included.

A transport may also restore the case of the question name at the wire level
(:class:`CaseRestoring`): the conductor sends names in a random case (0x20, RFC 5452 §9.1),
and a server's compressed names point into the question, so patching the question's bytes
before the one parse restores every name that shares its suffix — instead of rendering and
parsing the whole answer a second time.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Protocol, runtime_checkable

import dns.asyncquery
import dns.edns
import dns.exception
import dns.flags
import dns.inet
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.wire

from resolver.model import server_endpoint

T = dns.rdatatype
INTERPRETED_TYPES = frozenset({
    T.A, T.AAAA, T.NS, T.CNAME, T.DNAME, T.SOA, T.MX, T.SRV, T.PTR,
    T.DS, T.DNSKEY, T.RRSIG, T.NSEC, T.NSEC3, T.NSEC3PARAM, T.OPT, T.TSIG,
})
"""Types whose RDATA the resolver reads (names to follow, keys, proofs): a malformed one
makes the whole response malformed.  Any other type's RDATA is data the resolver only
passes on (RFC 3597 §4: a resolver treats it as opaque), so :func:`parse_response` keeps
it as it came when dnspython cannot read it."""


def parse_response(wire: bytes) -> dns.message.Message:
    """``wire`` as a message, RDATA of types the resolver does not interpret that do not
    parse (an HTTPS record with a duplicate SvcParam key, say) kept opaque, as Unbound
    passes them on; raises dns.exception.DNSException as dns.message.from_wire does."""
    try:
        message = dns.message.from_wire(wire)
    except dns.exception.DNSException as e:
        try:
            return _opaque_from_wire(wire)
        except (dns.exception.DNSException, ValueError):
            raise e from None
    if sum(len(r) for r in message.answer) < int.from_bytes(wire[6:8], "big"):
        _no_crowded_alias(wire)
    return message


def _no_crowded_alias(wire: bytes) -> None:
    """Raise FormError when the answer section holds two different CNAME or DNAME records
    at one owner.  dnspython keeps only the last record of such a singleton RRset, so this
    is checked when records went missing in parsing: an owner has one alias (RFC 2181 §10.1,
    RFC 6672 §2.4) and Unbound throws such a reply away (scrub_normalize: "Found DNAME rrset
    with size > 1"; parse_get_cname_target), the next server is asked."""
    seen: dict[tuple[dns.name.Name, int], dns.rdata.Rdata] = {}
    for rrset in dns.message.from_wire(wire, one_rr_per_rrset=True).answer:
        if rrset.rdtype in (T.CNAME, T.DNAME):
            first = seen.setdefault((rrset.name, rrset.rdtype), rrset[0])
            if first != rrset[0]:
                raise dns.exception.FormError(
                    f"two {T.to_text(rrset.rdtype)} records at {rrset.name}")


def _opaque_from_wire(wire: bytes) -> dns.message.Message:
    parser = dns.wire.Parser(wire)
    msg_id, flags, qd, an, ns, ar = parser.get_struct("!HHHHHH")
    msg = dns.message.Message(id=msg_id)
    msg.flags = flags & ~0x000F & 0xFFFF
    msg.set_opcode(dns.opcode.from_flags(flags))
    for _ in range(qd):
        name = parser.get_name(decompress=True)
        rdtype, rdclass = parser.get_struct("!HH")
        msg.question.append(dns.rrset.RRset(name, rdclass, rdtype))
    rcode = flags & 0x000F
    for section, count in ((msg.answer, an), (msg.authority, ns), (msg.additional, ar)):
        for _ in range(count):
            name = parser.get_name(decompress=True)
            rdtype, rdclass, ttl, rdlen = parser.get_struct("!HHIH")
            if rdtype == T.OPT:
                options = []
                with parser.restrict_to(rdlen):
                    while parser.remaining() > 0:
                        otype, olen = parser.get_struct("!HH")
                        with parser.restrict_to(olen):
                            options.append(dns.edns.option_from_wire_parser(otype, parser))
                rcode |= (ttl >> 24) << 4
                msg.use_edns((ttl >> 16) & 0xFF, ttl & 0xFFFF, rdclass, options=options)
                continue
            if rdtype == T.TSIG:
                raise dns.exception.FormError("TSIG in a response kept opaque")
            start = parser.current
            with parser.restrict_to(rdlen):
                try:
                    rd = dns.rdata.from_wire_parser(rdclass, rdtype, parser)
                except dns.exception.DNSException:
                    if rdtype in INTERPRETED_TYPES:
                        raise
                    parser.seek(start)
                    rd = dns.rdata.GenericRdata(rdclass, rdtype, parser.get_bytes(rdlen))
            covers = rd.covers()
            rrset = next((r for r in section if r.name == name and r.rdtype == rdtype
                          and r.rdclass == rdclass and r.covers == covers), None)
            if rrset is None:
                rrset = dns.rrset.RRset(name, rdclass, rdtype, covers)
                section.append(rrset)
            rrset.add(rd, ttl)
    if parser.remaining():
        raise dns.exception.FormError("trailing data")
    msg.set_rcode(dns.rcode.Rcode(rcode))
    return msg


def query_wire(message: dns.message.Message) -> bytes:
    """``message.to_wire()`` for a query as the conductor makes them (one question, no
    records, at most an OPT without options, no TSIG): the same bytes, written directly
    instead of through dnspython's renderer (a compression table, a reservation and a
    header rewrite for some 40 bytes).  Anything else goes to ``to_wire`` itself."""
    opt = message.opt
    if len(message.question) != 1 or message.answer or message.authority \
            or message.additional or message.tsig is not None or message.pad \
            or message.origin is not None \
            or (opt is not None and (len(opt) != 1 or opt[0].options or opt.name.labels != (b"",))):
        return message.to_wire()
    q = message.question[0]
    name = q.name.to_wire() if q.name.is_absolute() else None
    if name is None:
        return message.to_wire()
    tail = b"" if opt is None else b"\x00" + struct.pack("!HHIH", T.OPT, opt.rdclass, opt.ttl, 0)
    wire = struct.pack("!HHHHHH", message.id, message.flags, 1, 0, 0, 0 if opt is None else 1) \
        + name + struct.pack("!HH", q.rdtype, q.rdclass) + tail
    message.wire = wire
    return wire


class TransportError(Exception):
    """The network failed (unreachable, connection refused, reset)."""


class MalformedResponse(TransportError):
    """An answer came but does not parse as a DNS message (counted as ``malformed``)."""


class Transport(Protocol):
    async def query(
        self, address: str, message: dns.message.Message, *, tcp: bool, timeout: float
    ) -> dns.message.Message:
        """Send ``message`` to ``address``; raise TimeoutError or TransportError."""
        ...


@runtime_checkable
class CaseRestoring(Protocol):
    async def query_restoring(
        self, address: str, message: dns.message.Message, wanted: dns.name.Name, *,
        tcp: bool, timeout: float,
    ) -> tuple[dns.message.Message, bool]:
        """As :meth:`Transport.query`; and when the answer's question name is byte for byte
        the one sent, it comes back spelled as ``wanted`` (same length, other case) with
        True; otherwise the answer as received with False."""
        ...


class NetworkTransport:
    def __init__(self, port: int = 53, source: str | None = None) -> None:
        self.port = port
        self.source = source

    async def query(
        self, address: str, message: dns.message.Message, *, tcp: bool, timeout: float
    ) -> dns.message.Message:
        response, _ = await self.query_restoring(address, message, message.question[0].name,
                                                 tcp=tcp, timeout=timeout)
        return response

    async def query_restoring(
        self, address: str, message: dns.message.Message, wanted: dns.name.Name, *,
        tcp: bool, timeout: float,
    ) -> tuple[dns.message.Message, bool]:
        wire = query_wire(message)
        data = await self.exchange_wire(address, wire, tcp=tcp, timeout=timeout)
        sent = message.question[0].name.to_wire() or b""
        restored = False
        if data[12:12 + len(sent)] == sent:
            new = wanted.to_wire() or b""
            if len(new) == len(sent):
                data = data[:12] + new + data[12 + len(sent):]
                restored = True
        try:
            return parse_response(data), restored
        except dns.exception.DNSException as e:  # malformed answer
            raise MalformedResponse(f"{address}: malformed response: {e}") from e

    async def exchange_wire(self, address: str, wire: bytes, *, tcp: bool,
                            timeout: float) -> bytes:
        """One query's bytes to ``address`` and the answer's bytes (its ID checked)."""
        try:
            if tcp:
                return await self._tcp(address, wire, timeout)
            return await self._udp(address, wire, timeout)
        except (TimeoutError, dns.exception.Timeout) as e:
            raise TimeoutError(f"{address}: no answer within {timeout:.3g} s") from e
        except (OSError, EOFError) as e:
            raise TransportError(f"{address}: {e}") from e

    async def _udp(self, address: str, wire: bytes, timeout: float) -> bytes:
        loop = asyncio.get_running_loop()
        ip, port = server_endpoint(address, self.port)
        sock = socket.socket(dns.inet.af_for_address(ip), socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            if self.source is not None:
                sock.bind((self.source, 0))
            # connected: the kernel drops datagrams from any other address or port
            sock.connect((ip, port))
        except OSError:
            sock.close()
            raise
        # The loop's own socket calls, no transport and protocol objects per query; on the
        # connected socket an ICMP error (port unreachable and the like) fails the receive.
        try:
            await loop.sock_sendall(sock, wire)
            async with asyncio.timeout(timeout):
                while True:  # the first response with the query's ID; others are ignored
                    data = await loop.sock_recv(sock, 65535)
                    if len(data) >= 12 and data[:2] == wire[:2] and data[2] & 0x80:
                        return data
        finally:
            sock.close()

    async def _tcp(self, address: str, wire: bytes, timeout: float) -> bytes:
        async with asyncio.timeout(timeout):
            local = (self.source, 0) if self.source is not None else None
            ip, port = server_endpoint(address, self.port)
            reader, writer = await asyncio.open_connection(ip, port, local_addr=local)
            try:
                writer.write(len(wire).to_bytes(2, "big") + wire)
                await writer.drain()
                while True:
                    size = int.from_bytes(await reader.readexactly(2), "big")
                    data = await reader.readexactly(size)
                    if len(data) >= 12 and data[:2] == wire[:2]:
                        return data
            finally:
                writer.close()
