"""The parts of ``shadowdns bench chaos``: mutations, forged packets, the sniffer's parser,
the figures; and the fuzzer for a few seconds against real listeners and the real resolver
(upstream mocked at the Exchanger seam), which must keep answering."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import random
import socket
import struct
import threading

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode

from resolver.app import build
from resolver.clock import ManualClock
from resolver.conductor import MockTransport
from resolver.config import ResolverConfig
from shadowdns.bench.chaos import (
    FORGED_ADDRESS,
    case_letters,
    forged_answer,
    fuzz,
    mutate,
    own_rss_mb,
    parse_query_packet,
    port_spread,
    process_roles,
    seed_queries,
    spoof_packet,
    udp_receive_buffer_errors,
)
from tests.unit.test_recursor import ROOT, small_world
from tests.unit.test_server import BOUND, HOST, serving


def test_mutations_are_varied_and_mostly_not_parseable() -> None:
    rng = random.Random(3)
    seeds = seed_queries(rng, ["www.example.", "a.b.c.example."])
    assert all(dns.message.from_wire(w) for w in seeds)
    mutated = [mutate(rng.choice(seeds), rng) for _ in range(3000)]
    bad = 0
    for wire in mutated:
        try:
            dns.message.from_wire(wire)
        except dns.exception.DNSException:
            bad += 1
    assert len(set(mutated)) > 1500  # some kinds (QR set, cut at 0) repeat by nature
    assert 0.3 * len(mutated) < bad < len(mutated)  # mostly broken, some still parse
    assert min(map(len, mutated)) == 0 and max(map(len, mutated)) > 1000


def test_spoofed_packet_is_a_forged_answer_from_port_53() -> None:
    wire = forged_answer("s1x5.zone.example.")
    pkt = spoof_packet(socket.inet_aton("127.53.1.1"), socket.inet_aton("127.54.3.1"),
                       40001, 0xBEEF, wire)
    assert pkt[0] == 0x45 and pkt[9] == socket.IPPROTO_UDP
    assert pkt[12:16] == socket.inet_aton("127.53.1.1")
    assert pkt[16:20] == socket.inet_aton("127.54.3.1")
    sport, dport, length, _ = struct.unpack_from("!HHHH", pkt, 20)
    assert (sport, dport, length) == (53, 40001, 8 + len(wire))
    msg = dns.message.from_wire(pkt[28:])
    assert msg.id == 0xBEEF and msg.flags & dns.flags.QR and msg.flags & dns.flags.AA
    assert msg.question[0].name.to_text() == "s1x5.zone.example."
    assert msg.answer[0][0].address == FORGED_ADDRESS


def _query_packet(src: str, sport: int, dport: int, name: str) -> bytes:
    dns_wire = dns.message.make_query(name, "A").to_wire()
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(dns_wire), 0, 0, 64,
                     socket.IPPROTO_UDP, 0, socket.inet_aton(src), socket.inet_aton("127.53.1.1"))
    return ip + struct.pack("!HHHH", sport, dport, 8 + len(dns_wire), 0) + dns_wire


def test_sniffer_parser_reads_port_and_name_as_sent() -> None:
    me = socket.inet_aton("127.54.3.1")
    pkt = _query_packet("127.54.3.1", 41234, 53, "wWw.ExAmPle.")
    assert parse_query_packet(pkt, me) == (41234, b"wWw.ExAmPle")
    assert parse_query_packet(_query_packet("127.54.3.2", 41234, 53, "a."), me) is None
    assert parse_query_packet(_query_packet("127.54.3.1", 53, 41234, "a."), me) is None
    assert parse_query_packet(pkt[:30], me) is None


def test_figures() -> None:
    snmp = ("Ip: Forwarding\nIp: 1\nUdp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors"
            "\nUdp: 10 2 7 9 5\nUdpLite: InDatagrams RcvbufErrors\nUdpLite: 1 99\n")
    assert udp_receive_buffer_errors(snmp) == 5
    assert udp_receive_buffer_errors("Udp: InDatagrams\nUdp: 3\n") == 0
    assert port_spread(list(range(2500))) == [1000, 1000]
    assert port_spread([7] * 1000) == [1]
    assert case_letters([b"wWw", b"A-1"]) == (2, 2)


def test_rss_counts_each_server_process_once() -> None:
    """The supervisor, its workers and their fronts each get a role and their own RSS: a
    sum over process trees counted a front three times (the campaign's figure before)."""
    parents = {10: 1, 20: 10, 21: 10, 30: 20, 31: 21}
    assert process_roles(set(parents), parents) == {
        10: "supervisor", 20: "worker0", 21: "worker1", 30: "front0", 31: "front1"}
    import os

    from shadowdns.bench.resolver import _rss_mb

    mine = own_rss_mb(os.getpid())
    assert 0 < mine <= _rss_mb(os.getpid())[0]
    assert own_rss_mb(2 ** 22 + 1) == 0.0  # no such process


async def _ask_retrying(q: dns.message.Message, port: int, over_tcp: bool) -> dns.message.Message:
    """Ask as a stub does: a UDP query the full frame queue dropped while the fuzzer's
    backlog drains (UDP clients retry, by design) is sent again, within BOUND in all."""
    if over_tcp:
        return await dns.asyncquery.tcp(q, HOST, port=port, timeout=BOUND)
    tries = 5
    for attempt in range(tries):
        try:
            return await dns.asyncquery.udp(q, HOST, port=port, timeout=BOUND / tries)
        except dns.exception.Timeout:
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


async def test_fuzzer_against_real_listeners_and_resolver_keeps_it_answering() -> None:
    """Three seconds of the bench's fuzzer (UDP and TCP) against the real resolver behind
    real listeners; afterwards the server still answers, over UDP and TCP."""
    config = ResolverConfig(root_hints=(("a.root.", ROOT),), validation=False)
    answerer = build(config, ManualClock(),
                     MockTransport(lambda addr, q, tcp: small_world(q, addr)))
    async with serving(answerer) as s:
        receive, send = mp.Pipe(duplex=False)
        thread = threading.Thread(target=fuzz, args=((HOST, s.port), 3.0, 7,
                                                     ["www.zone.ex.", "zone.ex."], send))
        thread.start()
        await asyncio.to_thread(thread.join, 30)
        counts = receive.recv()
        assert counts["udp"] > 1000 and counts["tcp_messages"] > 10
        udp = s.listeners.udp
        assert udp is not None and udp.stats.datagrams > 1000
        q = dns.message.make_query("www.zone.ex.", "A")
        for over_tcp in (False, True):
            r = await _ask_retrying(q, s.port, over_tcp)
            assert r.rcode() == dns.rcode.NOERROR
            assert r.answer[0][0].address == "127.100.0.1"
