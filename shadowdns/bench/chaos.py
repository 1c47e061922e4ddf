"""``shadowdns bench chaos``: the candidate under hostile traffic on the lab, loopback only.

Starts the lab and the candidate (``shadowdns resolver serve --lab``, in its own processes),
then two phases, each bounded in time:

* **client packets**: a fuzzer process sends mutated and random UDP datagrams at full rate
  and, beside them, TCP connections carrying mutated length-prefixed messages, garbage and
  half-written frames; meanwhile a health query for a cached name goes every 100 ms (1 s
  timeout).  Reported: server processes that exited (crashes), health failures, RSS before
  and after.
* **off-path spoofing** (RFC 5452): the candidate resolves fresh names of one zone while a
  spoofer process sends forged answers (an A record the lab never serves) from the zone's
  server addresses, port 53, to the candidate's egress address at guessed ports and IDs,
  as fast as ``--spoof-rate`` allows, for the names being asked (lower case: the spoofer
  cannot know the 0x20 pattern).  A sniffer on the lab side (a packet socket on ``lo``)
  records every query the candidate sends: distinct source ports per 1,000 queries and
  the letters in upper case (0x20).  Every answer is compared with the lab's own answer to
  the same question; forged answers accepted are counted, and asked again from the cache.

The spoofing phase runs the candidate without DNSSEC validation (``--no-validation``), so
only ID, port and 0x20 stand between a forgery and the cache.  Packet sockets need root,
as the lab does.  Nothing here is a timed assertion: the figures go to docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import multiprocessing as mp
import os
import random
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset

from lab.manifest import manifest
from lab.run import LabError, LabInfo, LabProcess
from lab.world import load_world
from resolver.cli import ensure_free
from resolver.server.tls import self_signed, write_pair
from resolver.server.udp import READERS
from shadowdns.bench.resolver import (
    _status_field,
    _wait_answering,
    nonpositive_flag,
    process_tree,
    stop_process,
)

CANDIDATE = ("127.0.0.13", 5353)
DOT_PORT, DOH_PORT = 8853, 8443
"""The candidate's DoT and DoH listeners (same address, a self-signed pair): fuzzed too."""
FORGED_ADDRESS = "127.66.6.6"
"""The A record of every forged answer: outside every lab world, so an answer carrying it
can only have come from the spoofer."""
HEALTH_EVERY = 0.1
HEALTH_TIMEOUT = 1.0
HEALTH_SOURCE = "127.0.0.2"
"""The health client's address: another client than the fuzzer (127.0.0.1)."""
ETH_P_IP = 0x0800
PACKET_HOST = 0


def register(bsub: Any) -> None:
    c = bsub.add_parser("chaos", help="fuzzed client packets and an off-path spoofing race "
                                      "against the candidate on the lab (loopback only)")
    c.add_argument("--fuzz-seconds", type=float, default=50.0, metavar="SECONDS",
                   help="length of the client-packet phase (50 s: about 1,000,000 datagrams "
                        "at this machine's rate)")
    c.add_argument("--spoof-seconds", type=float, default=20.0, metavar="SECONDS",
                   help="length of the spoofing phase")
    c.add_argument("--spoof-rate", type=int, default=20000, metavar="N",
                   help="forged answers per second to aim at")
    c.add_argument("--spoof-zone", default="optout.rsa.", metavar="NAME",
                   help="zone whose fresh names the candidate resolves while being spoofed "
                        "(optout.rsa.: every name is a fresh NXDOMAIN upstream)")
    c.add_argument("--resolve-rate", type=int, default=300, metavar="N",
                   help="fresh names per second the candidate is asked in the race")
    c.add_argument("--hostile-share", type=float, default=0.35, metavar="P",
                   help="share of the lab's replies bent in the hostile-authorities phase "
                        "(lab/hostile.py; 0: no such phase)")
    c.add_argument("--hostile-rounds", type=int, default=3, metavar="N",
                   help="fresh candidates in the hostile-authorities phase, each asked every "
                        "stable name twice and fresh NXDOMAIN names once")
    c.add_argument("--workers", type=int, default=2, metavar="N", help="candidate processes")
    c.add_argument("--udp-reader", choices=READERS, default="front", metavar="KIND",
                   help="the candidate's UDP reader (resolver serve --udp-reader; the front "
                        "sheds a flood at its sender, docs/RELIABILITY.md)")
    c.add_argument("--seed", type=int, default=1, metavar="N", help="fuzzer and spoofer seed")
    c.add_argument("--run-dir", type=Path, default=Path("run/chaos"), metavar="DIR",
                   help="state of the lab and the candidate")
    c.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    c.set_defaults(func=run)


# -- client packets: the fuzzer --------------------------------------------------------------

def seed_queries(rng: random.Random, names: Sequence[str]) -> list[bytes]:
    """Well-formed queries of many shapes: the material mutations start from."""
    out = []
    types = ("A", "AAAA", "NS", "MX", "TXT", "DNSKEY", "DS", "ANY", "SOA", "PTR", "TYPE65")
    for name in names:
        for rdtype in types:
            q = dns.message.make_query(name, rdtype, use_edns=rng.choice((None, 0)),
                                       want_dnssec=rng.random() < 0.5)
            q.flags |= rng.choice((0, dns.flags.CD, dns.flags.AD))
            out.append(q.to_wire())
    return out


def mutate(wire: bytes, rng: random.Random) -> bytes:
    """One mutation of ``wire``: bit flips, random bytes, truncation, extension, a
    compression pointer loop, a header with absurd counts, or plain random bytes."""
    kind = rng.randrange(8)
    data = bytearray(wire)
    if kind == 0:
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif kind == 1:
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 2:
        del data[rng.randrange(len(data)):]
    elif kind == 3:
        data += rng.randbytes(rng.randint(1, 600))
    elif kind == 4 and len(data) > 14:
        data[12:14] = b"\xc0\x0c"  # the question name points at itself
    elif kind == 5 and len(data) >= 12:
        data[4:12] = rng.randbytes(8)  # section counts that lie
    elif kind == 6:
        return rng.randbytes(rng.randint(0, 1500))
    else:
        data[2] |= 0x80  # a response sent to the server
    return bytes(data)


def fuzz(addr: tuple[str, int], seconds: float, seed: int, names: Sequence[str],
         out: Connection, streams: bool = True) -> None:
    """Process body: UDP datagrams at full rate, TCP connections from a thread beside them,
    and (``streams``) DoT and DoH connections from another: see :func:`stream_abuse`."""
    import threading

    rng = random.Random(seed)
    seeds = seed_queries(rng, names)
    deadline = time.monotonic() + seconds
    counts = {"udp": 0, "tcp_connections": 0, "tcp_messages": 0, "tcp_errors": 0,
              "tls_connections": 0, "tls_messages": 0, "tls_errors": 0}

    def tcp() -> None:
        trng = random.Random(seed + 1)
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(addr, timeout=0.5) as s:
                    counts["tcp_connections"] += 1
                    payload = bytearray()
                    for _ in range(trng.randint(1, 20)):
                        msg = mutate(trng.choice(seeds), trng)
                        payload += len(msg).to_bytes(2, "big") + msg
                        counts["tcp_messages"] += 1
                    if trng.random() < 0.3:
                        payload += trng.randbytes(trng.randint(1, 300))  # a frame left open
                    s.sendall(bytes(payload))
                    if trng.random() < 0.5:
                        with contextlib.suppress(OSError):
                            s.recv(65535)
            except OSError:
                counts["tcp_errors"] += 1

    thread = threading.Thread(target=tcp, daemon=True)
    thread.start()
    tls_thread = threading.Thread(
        target=lambda: stream_abuse(addr[0], seeds, deadline, random.Random(seed + 2), counts),
        daemon=True)
    if streams:
        tls_thread.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setblocking(False)
        while time.monotonic() < deadline:
            for _ in range(256):
                with contextlib.suppress(BlockingIOError):
                    s.sendto(mutate(rng.choice(seeds), rng), addr)
                    counts["udp"] += 1
                with contextlib.suppress(OSError):  # drain the replies we do not read
                    while True:
                        s.recv(65535)
    thread.join(2)
    if streams:
        tls_thread.join(5)
    out.send(counts)
    out.close()


def stream_abuse(host: str, seeds: Sequence[bytes], deadline: float, rng: random.Random,
                 counts: dict[str, int]) -> None:
    """Until ``deadline``: connections to the DoT and DoH ports that send what a server must
    survive -- bytes that are not TLS, TLS then mutated DNS frames (DoT), TLS then broken
    HTTP/1.1 requests or an HTTP/2 preface and random frames (DoH)."""
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    while time.monotonic() < deadline:
        kind = rng.randrange(5)
        port = DOT_PORT if kind in (0, 2) else DOH_PORT
        try:
            with socket.create_connection((host, port), timeout=0.5) as raw:
                counts["tls_connections"] += 1
                if kind < 2:  # not TLS at all: a malformed record layer
                    raw.sendall(rng.choice([b"\x16\x03\x01", b"GET / HTTP/1.1\r\n\r\n", b""])
                                + rng.randbytes(rng.randint(1, 600)))
                    counts["tls_messages"] += 1
                    continue
                ctx.set_alpn_protocols(["dot"] if kind == 2 else
                                       ["h2"] if kind == 4 else ["http/1.1"])
                with ctx.wrap_socket(raw, server_hostname=host) as tls:
                    tls.sendall(_stream_payload(kind, seeds, rng))
                    counts["tls_messages"] += 1
                    if rng.random() < 0.5:
                        with contextlib.suppress(OSError):
                            tls.recv(65535)
        except (OSError, ValueError):
            counts["tls_errors"] += 1


def _stream_payload(kind: int, seeds: Sequence[bytes], rng: random.Random) -> bytes:
    msg = mutate(rng.choice(seeds), rng)
    if kind == 2:  # DoT: length-prefixed, sometimes lying about the length
        length = len(msg) if rng.random() < 0.7 else rng.randrange(65536)
        return length.to_bytes(2, "big") + msg
    if kind == 4:  # HTTP/2: the preface, then random frames
        return b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + rng.randbytes(rng.randint(0, 400))
    method = rng.choice([b"POST", b"GET", b"PUT", b"P\x00ST", b""])
    path = rng.choice([b"/dns-query", b"/dns-query?dns=" + rng.randbytes(20), b"/", b"*"])
    length = len(msg) if rng.random() < 0.7 else rng.randrange(100000)
    head = (method + b" " + path + b" HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: " + rng.choice([b"application/dns-message", b"text/plain"])
            + b"\r\nContent-Length: " + str(length).encode() + b"\r\n")
    if rng.random() < 0.2:
        head += b"X-Big: " + b"a" * rng.randint(1000, 20000) + b"\r\n"
    return head + b"\r\n" + msg


# -- spoofing: forged answers, and the sniffer on the lab side -------------------------------

def forged_answer(name: str, rdtype: dns.rdatatype.RdataType = dns.rdatatype.A) -> bytes:
    """A forged authoritative answer for ``name`` (ID 0: the spoofer patches its guess in)."""
    q = dns.message.make_query(name, rdtype, use_edns=False)
    r = dns.message.make_response(q)
    r.flags |= dns.flags.AA
    r.flags &= ~dns.flags.RA
    r.answer.append(dns.rrset.from_text(name, 86400, "IN", "A", FORGED_ADDRESS))
    r.id = 0
    return r.to_wire()


def spoof_packet(src: bytes, dst: bytes, dport: int, qid: int, dns_wire: bytes) -> bytes:
    """An IPv4/UDP datagram from ``src`` port 53 to ``dst:dport`` carrying ``dns_wire`` with
    its ID set to ``qid`` (the kernel fills the IP checksum and length; UDP checksum 0)."""
    return _ip_header(src, dst) + _udp_and_id(dport, qid, dns_wire) + dns_wire[2:]


def _ip_header(src: bytes, dst: bytes) -> bytes:
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, socket.IPPROTO_UDP, 0, src, dst)


def _udp_and_id(dport: int, qid: int, dns_wire: bytes) -> bytes:
    return struct.pack("!HHHHH", 53, dport, 8 + len(dns_wire), 0, qid)


def spoof(servers: Sequence[str], target: str, names: Sequence[str], current: Any,
          window: int, rate: int, seconds: float, seed: int, out: Connection) -> None:
    """Process body: forged answers for the names around ``current`` (a shared index), at
    random IDs and ports of the local ephemeral range, at about ``rate`` per second."""
    rng = random.Random(seed)
    low, high = _port_range()
    span = high - low + 1
    dst = socket.inet_aton(target)
    headers = [_ip_header(socket.inet_aton(s), dst) for s in servers]
    tails: dict[int, tuple[int, bytes]] = {}  # name index -> (UDP length, DNS after the ID)
    pack, getrandbits, randrange = struct.pack, rng.getrandbits, rng.randrange
    sent = 0
    start = time.monotonic()
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as s:
        sendto = s.sendto
        to = (target, 0)
        while (elapsed := time.monotonic() - start) < seconds:
            if sent >= rate * elapsed:
                time.sleep(0.001)
                continue
            base = current.value
            i = min(len(names) - 1, max(0, base + randrange(-window, window)))
            tail = tails.get(i)
            if tail is None:
                wire = forged_answer(names[i])
                tail = tails[i] = (8 + len(wire), wire[2:])
            length, rest = tail
            for header in headers:
                for _ in range(100):
                    dport = low + randrange(span)
                    pkt = header + pack("!HHHHH", 53, dport, length, 0, getrandbits(16)) + rest
                    try:
                        sendto(pkt, to)
                        sent += 1
                    except OSError:
                        pass
    out.send({"sent": sent, "seconds": time.monotonic() - start})
    out.close()


def _port_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def parse_query_packet(packet: bytes, source: bytes) -> tuple[int, bytes] | None:
    """(source port, question name as sent) of an IPv4/UDP DNS query to port 53 from
    ``source``; None for anything else."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != socket.IPPROTO_UDP:
        return None
    if packet[12:16] != source:
        return None
    ihl = (packet[0] & 0x0F) * 4
    if len(packet) < ihl + 8 + 12:
        return None
    sport, dport = struct.unpack_from("!HH", packet, ihl)
    if dport != 53:
        return None
    pos = ihl + 8 + 12
    labels = []
    while pos < len(packet):
        n = packet[pos]
        if n == 0 or n & 0xC0:
            break
        labels.append(packet[pos + 1:pos + 1 + n])
        pos += 1 + n
    return sport, b".".join(labels)


def sniff(source: str, stop: Any, out: Connection) -> None:
    """Process body: every DNS query ``source`` sends on ``lo`` until ``stop`` is set."""
    src = socket.inet_aton(source)
    seen: list[tuple[int, bytes]] = []
    with socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP)) as s:
        s.bind(("lo", ETH_P_IP))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.settimeout(0.2)
        while not stop.is_set():
            try:
                packet, addr = s.recvfrom(65535)
            except TimeoutError:
                continue
            if addr[2] != PACKET_HOST:  # each loopback packet is seen going out and coming in
                continue
            hit = parse_query_packet(packet, src)
            if hit is not None:
                seen.append(hit)
    out.send(seen)
    out.close()


def port_spread(ports: Sequence[int], per: int = 1000) -> list[int]:
    """Distinct values in each full block of ``per`` consecutive source ports."""
    return [len(set(ports[i:i + per])) for i in range(0, len(ports) - per + 1, per)]


def case_letters(names: Sequence[bytes]) -> tuple[int, int]:
    """(upper-case letters, lower-case letters) over ``names``."""
    upper = lower = 0
    for n in names:
        for c in n:
            if 0x41 <= c <= 0x5A:
                upper += 1
            elif 0x61 <= c <= 0x7A:
                lower += 1
    return upper, lower


# -- the run ---------------------------------------------------------------------------------

@dataclass
class Health:
    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)


async def _health(addr: tuple[str, int], name: str, stop: asyncio.Event,
                  into: Health) -> None:
    while not stop.is_set():
        q = dns.message.make_query(name, "A")
        start = time.monotonic()
        try:
            r = await dns.asyncquery.udp(q, addr[0], port=addr[1], timeout=HEALTH_TIMEOUT,
                                         source=HEALTH_SOURCE)
            if r.rcode() == dns.rcode.NOERROR and r.answer:
                into.ok += 1
                into.latencies.append(time.monotonic() - start)
            else:
                into.failed += 1
        except (dns.exception.DNSException, OSError):
            into.failed += 1
        await asyncio.sleep(max(0.0, HEALTH_EVERY - (time.monotonic() - start)))


def _server_pids(pid: int) -> set[int]:
    """``pid`` and its descendants: the supervisor, its workers and their UDP fronts."""
    return process_tree(pid)


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for p in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, 0)
            alive.add(p)
    return alive


def run(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        print("shadowdns bench chaos: needs root (the lab binds port 53; the spoofer and the "
              "sniffer use raw and packet sockets)", file=sys.stderr)
        return 1
    if not 0.0 <= args.hostile_share <= 1.0:
        print(f"shadowdns bench chaos: --hostile-share: expected 0 to 1, got "
              f"{args.hostile_share}", file=sys.stderr)
        return 2
    if nonpositive_flag("chaos", args, "fuzz_seconds", "spoof_seconds", "resolve_rate",
                        "workers", "hostile_rounds"):
        return 2
    if args.spoof_rate < 0:
        print(f"shadowdns bench chaos: --spoof-rate: expected 0 or more, got {args.spoof_rate}",
              file=sys.stderr)
        return 2
    try:
        dns.name.from_text(args.spoof_zone)
    except dns.exception.DNSException as e:
        print(f"shadowdns bench chaos: --spoof-zone: {args.spoof_zone!r}: {e}", file=sys.stderr)
        return 2
    run_dir: Path = args.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    lab_proc = LabProcess(run_dir / "lab")
    lab_proc.stop()
    try:
        info = lab_proc.start()
        try:
            results = asyncio.run(_chaos(args, info, run_dir))
        finally:
            lab_proc.stop()
        truth = results.pop("truth")
        if args.hostile_share > 0:
            hostile_lab = LabProcess(run_dir / "lab", hostile=args.hostile_share,
                                     hostile_seed=args.seed)
            info = hostile_lab.start()
            try:
                results["hostile"] = asyncio.run(
                    _hostile_phase(args, info, run_dir, truth))
            finally:
                hostile_lab.stop()
    except (LabError, RuntimeError, OSError, dns.exception.DNSException) as e:
        print(f"shadowdns bench chaos: {e}", file=sys.stderr)
        return 1
    for line in summary_lines(results):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


def _wait_free(host: str, ports: tuple[int, ...], limit: float = 15.0) -> None:
    """Wait (at most ``limit`` seconds) until the candidate's ports are free: the workers of
    the candidate stopped just before may still be closing their sockets, and a new one
    started meanwhile refuses to serve ("Address already in use", seen once in CI)."""
    deadline = time.monotonic() + limit
    while True:
        try:
            for port in ports:
                ensure_free(host, port)
            return
        except OSError:
            if time.monotonic() >= deadline:
                return  # the candidate will say what holds the port
            time.sleep(0.1)


@contextlib.contextmanager
def _candidate(info: LabInfo, run_dir: Path, egress: str, workers: int,
               validation: bool = False, reader: str = "front"
               ) -> Iterator[subprocess.Popen[bytes]]:
    tls_dir = run_dir / "tls"
    if not (tls_dir / "self-signed.pem").exists():
        tls_dir.mkdir(parents=True, exist_ok=True)
        write_pair(self_signed(CANDIDATE[0]), tls_dir)
    cmd = [sys.executable, "-m", "shadowdns", "resolver", "serve",
           "--listen", f"{CANDIDATE[0]}:{CANDIDATE[1]}", "--lab", str(info.state_dir),
           "--egress", egress, "--workers", str(workers), "--dot", str(DOT_PORT),
           "--doh", str(DOH_PORT), "--tls-cert", str(tls_dir / "self-signed.pem"),
           "--tls-key", str(tls_dir / "self-signed.key"), "--udp-reader", reader]
    if not validation:
        cmd.append("--no-validation")
    _wait_free(CANDIDATE[0], (CANDIDATE[1], DOT_PORT, DOH_PORT))
    with open(run_dir / "candidate.log", "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        yield proc
    finally:
        stop_process(proc)


async def _chaos(args: argparse.Namespace, info: LabInfo, run_dir: Path) -> dict[str, Any]:
    egress = info.egress.get("candidate", "127.54.3.1")
    entries = [e for e in manifest(load_world(info.world))
               if e.category == "stable" and e.rcode == 0 and e.rdtype == dns.rdatatype.A]
    health_name = entries[0].name.to_text()
    names = [e.name.to_text() for e in entries[:20]]
    with _candidate(info, run_dir, egress, args.workers, reader=args.udp_reader) as proc:
        await _wait_answering(CANDIDATE, proc)
        await asyncio.sleep(0.5)  # let every worker process come up
        pids = _server_pids(proc.pid)
        for name in [health_name, *names]:  # warm: the health name is a cache hit
            with contextlib.suppress(dns.exception.DNSException, OSError):
                await dns.asyncquery.udp(dns.message.make_query(name, "A"), CANDIDATE[0],
                                         port=CANDIDATE[1], timeout=2)
        truth = {f"{e.name} {e.rdtype}": list(await _ask_data(CANDIDATE, e.name.to_text(),
                                                              e.rdtype))
                 for e in stable_entries(info)}
        fuzz_result = await _fuzz_phase(args, pids, health_name, names)
        spoof_result = await _spoof_phase(args, info, egress)
        spoof_result["crashed"] = len(pids - _alive(pids))
    return {"candidate": {"processes": len(pids), "listen": list(CANDIDATE), "egress": egress},
            "fuzz": fuzz_result, "spoof": spoof_result, "truth": truth}


def stable_entries(info: LabInfo) -> list[Any]:
    """The world's stable manifest names (every type): their answers do not vary."""
    return [e for e in manifest(load_world(info.world)) if e.category == "stable"]


async def _ask_data(addr: tuple[str, int], name: str, rdtype: int, timeout: float = 10.0
                    ) -> tuple[str, list[str], bool]:
    """rcode, the answer's records (RRSIGs left out: the lab signs again at each start) as
    sorted text, and whether :data:`FORGED_ADDRESS` appears anywhere in the reply."""
    q = dns.message.make_query(name, dns.rdatatype.RdataType.make(rdtype), want_dnssec=True)
    try:
        r = await dns.asyncquery.udp(q, addr[0], port=addr[1], timeout=timeout)
        if r.flags & dns.flags.TC:
            r = await dns.asyncquery.tcp(q, addr[0], port=addr[1], timeout=timeout)
    except (dns.exception.DNSException, OSError):
        return "TIMEOUT", [], False
    data = sorted(f"{s.name} {s.rdtype} {rd}" for s in r.answer
                  if s.rdtype != dns.rdatatype.RRSIG for rd in s)
    poisoned = any(rd.rdtype == dns.rdatatype.A and rd.address == FORGED_ADDRESS
                   for section in (r.answer, r.authority, r.additional)
                   for s in section for rd in s)
    return dns.rcode.to_text(r.rcode()), data, poisoned


async def _hostile_phase(args: argparse.Namespace, info: LabInfo, run_dir: Path,
                         truth: dict[str, list[Any]]) -> dict[str, Any]:
    """The lab bends ``--hostile-share`` of its replies (lab/hostile.py; its poisoned replies
    carry :data:`FORGED_ADDRESS`); validating candidates, fresh per round, are asked every
    stable name (cold, then from the cache) and fresh names of ``--spoof-zone`` (cold
    NXDOMAIN).  Must hold: the poison never shows; a secure name is answered with the data
    it had with the lab behaving, or SERVFAIL; every server process stays up."""
    egress = info.egress.get("candidate", "127.54.3.1")
    entries = stable_entries(info)
    rng = random.Random(args.seed)
    counts: collections.Counter[str] = collections.Counter()
    problems: list[str] = []
    crashed = 0
    for _round in range(args.hostile_rounds):
        with _candidate(info, run_dir, egress, args.workers, validation=True,
                        reader=args.udp_reader) as proc:
            await _wait_answering(CANDIDATE, proc)
            await asyncio.sleep(0.5)
            pids = _server_pids(proc.pid)
            for pass_ in ("cold", "cached"):
                asked = [(e.name.to_text(), int(e.rdtype), e.dnssec == "secure") for e in entries]
                if pass_ == "cold":
                    asked += [(f"h{rng.getrandbits(40):x}.{args.spoof_zone}", 1, False)
                              for _ in range(len(entries))]
                got = await asyncio.gather(*(_ask_data(CANDIDATE, n, t) for n, t, _ in asked))
                for (name, rdtype, secure), (rcode, data, poisoned) in zip(asked, got,
                                                                           strict=True):
                    counts["answers"] += 1
                    counts[f"rcode_{rcode}"] += 1
                    if poisoned:
                        problems.append(f"{name} {rdtype}: the poison reached the answer")
                    known = truth.get(f"{name} {rdtype}")
                    if secure and known is not None and rcode != "SERVFAIL" \
                            and [rcode, data] != known[:2]:
                        problems.append(f"{name} {rdtype}: {rcode} {data}, truth {known[:2]}")
            crashed += len(pids - _alive(pids))
    try:
        bent = {k.removeprefix("hostile_"): v
                for k, v in LabProcess(info.state_dir).stats()["stats"].items()
                if k.startswith("hostile_")}
    except LabError:
        bent = {}
    return {"share": args.hostile_share, "rounds": args.hostile_rounds,
            "answers": counts["answers"], "servfail": counts["rcode_SERVFAIL"],
            "timeouts": counts["rcode_TIMEOUT"], "bent": bent,
            "poisoned_or_wrong": len(problems), "problems": problems[:20], "crashed": crashed}


async def _fuzz_phase(args: argparse.Namespace, pids: set[int], health_name: str,
                      names: list[str]) -> dict[str, Any]:
    roles = process_roles(pids)
    rss_before = sum(own_rss_mb(p) for p in pids)
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    fuzzer = ctx.Process(target=fuzz, args=(CANDIDATE, args.fuzz_seconds, args.seed, names,
                                            send))
    health = Health()
    stop = asyncio.Event()
    checker = asyncio.create_task(_health(CANDIDATE, health_name, stop, health))
    rss_samples: list[float] = []
    by_process: dict[str, list[float]] = {role: [] for role in roles.values()}
    sampler = asyncio.create_task(_sample_rss(roles, stop, rss_samples, by_process))
    started = time.monotonic()
    drops_before = udp_receive_buffer_errors()
    fuzzer.start()
    counts: dict[str, int] = await asyncio.to_thread(_receive, receive, args.fuzz_seconds + 30)
    fuzzer.join(5)
    elapsed = time.monotonic() - started
    drops = udp_receive_buffer_errors() - drops_before
    await asyncio.sleep(1.0)  # a health query or two after the flood
    stop.set()
    await checker
    await sampler
    streams_ok = await asyncio.to_thread(_streams_answer, health_name)
    alive = _alive(pids)
    rss_after = sum(own_rss_mb(p) for p in alive)
    lat = sorted(health.latencies)
    return {"seconds": round(elapsed, 1), **counts,
            "udp_per_second": round(counts.get("udp", 0) / elapsed),
            "crashed": len(pids - alive), "health_ok": health.ok,
            "health_failed": health.failed, "kernel_udp_receive_drops": drops,
            "health_p99_ms": round(1000 * lat[int(0.99 * (len(lat) - 1))], 2) if lat else None,
            "rss_before_mb": round(rss_before, 1), "rss_after_mb": round(rss_after, 1),
            "rss_every_10s_mb": rss_samples, "rss_every_10s_by_process_mb": by_process,
            "dot_answers_after": streams_ok["dot"], "doh_answers_after": streams_ok["doh"]}


RSS_EVERY = 10.0
"""Seconds between RSS samples of the server processes in the client-packet phase."""


async def _sample_rss(roles: dict[int, str], stop: asyncio.Event, into: list[float],
                      by_process: dict[str, list[float]]) -> None:
    """The server processes' RSS (MB) every :data:`RSS_EVERY` seconds until ``stop``, in all
    (``into``) and per process (``by_process``, by role): whether memory levels off under
    the flood (the caches' byte budgets) or keeps growing, and where."""
    while not stop.is_set():
        sample = {role: own_rss_mb(pid) for pid, role in roles.items()}
        into.append(round(sum(sample.values()), 1))
        for role, mb in sample.items():
            by_process[role].append(round(mb, 1))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RSS_EVERY)


def own_rss_mb(pid: int) -> float:
    """Resident memory (MB) of ``pid`` alone (0 once it is gone): each process counted once,
    where a sum of its process tree's would count a worker's front again in the worker and
    in the supervisor (the campaign's figure before 2026-12-08 did: 1x the supervisor, 2x
    each worker, 3x each front)."""
    try:
        rss = _status_field(Path(f"/proc/{pid}/status").read_text(), "VmRSS")
    except OSError:
        return 0.0
    return int(rss.split()[0]) / 1024 if rss else 0.0


def process_roles(pids: set[int], parents: dict[int, int] | None = None) -> dict[int, str]:
    """A name for each server process: ``supervisor`` (the one whose parent is not among
    them), ``worker0``..., and ``front0``... (a worker's child), numbered by PID."""
    if parents is None:
        parents = {p: _parent(p) for p in pids}
    top = sorted(p for p in pids if parents.get(p) not in pids)
    roles = {p: "supervisor" for p in top}
    workers = sorted(p for p in pids if parents.get(p) in top)
    for i, w in enumerate(workers):
        roles[w] = f"worker{i}"
        for j, f in enumerate(sorted(p for p in pids if parents.get(p) == w)):
            roles[f] = f"front{i}" + (f".{j}" if j else "")
    for p in sorted(pids - roles.keys()):
        roles[p] = f"process{p}"
    return roles


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _streams_answer(name: str) -> dict[str, bool]:
    """After the flood: do the DoT and DoH listeners still answer a plain query?"""
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    query = dns.message.make_query(name, "A")
    out = {"dot": False, "doh": False}
    with contextlib.suppress(OSError, dns.exception.DNSException):
        r = dns.query.tls(query, CANDIDATE[0], port=DOT_PORT, timeout=5, ssl_context=ctx)
        out["dot"] = r.id == query.id
    with contextlib.suppress(OSError, ValueError, dns.exception.DNSException):
        ctx.set_alpn_protocols(["http/1.1"])
        wire = query.to_wire()
        with socket.create_connection((CANDIDATE[0], DOH_PORT), timeout=5) as raw, \
                ctx.wrap_socket(raw, server_hostname=CANDIDATE[0]) as tls:
            tls.sendall(b"POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: "
                        b"application/dns-message\r\nContent-Length: "
                        + str(len(wire)).encode() + b"\r\n\r\n" + wire)
            data = b""
            while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < 12:
                chunk = tls.recv(65535)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            out["doh"] = head.startswith(b"HTTP/1.1 200") and \
                dns.message.from_wire(body).id == query.id
    return out


def udp_receive_buffer_errors(snmp: str | None = None) -> int:
    """The kernel's count of UDP datagrams dropped because a socket's receive buffer was
    full (``Udp: RcvbufErrors`` in /proc/net/snmp; host-wide, so other traffic counts too)."""
    if snmp is None:
        try:
            snmp = Path("/proc/net/snmp").read_text()
        except OSError:
            return 0
    rows = [line.split() for line in snmp.splitlines() if line.startswith("Udp:")]
    if len(rows) < 2 or "RcvbufErrors" not in rows[0]:
        return 0
    return int(rows[1][rows[0].index("RcvbufErrors")])


def _receive(conn: Connection, timeout: float) -> Any:
    if not conn.poll(timeout):
        raise RuntimeError("a chaos process sent no result in time")
    return conn.recv()


async def _servers_of(zone: str) -> list[str]:
    """The addresses of ``zone``'s name servers, as the candidate resolves them."""
    addrs: list[str] = []
    ns = await dns.asyncquery.udp(dns.message.make_query(zone, "NS"), CANDIDATE[0],
                                  port=CANDIDATE[1], timeout=5)
    for rrset in ns.answer:
        for rd in rrset:
            if rrset.rdtype != dns.rdatatype.NS:
                continue
            a = await dns.asyncquery.udp(dns.message.make_query(rd.target, "A"),
                                         CANDIDATE[0], port=CANDIDATE[1], timeout=5)
            addrs += [r.address for s in a.answer for r in s if s.rdtype == dns.rdatatype.A]
    if not addrs:
        raise RuntimeError(f"--spoof-zone: the candidate found no name server address for "
                           f"{zone} (a zone of the lab's world?)")
    return addrs


async def _ask(addr: tuple[str, int], name: str, timeout: float = 5.0, rd: bool = True
               ) -> tuple[str, frozenset[str]]:
    q = dns.message.make_query(name, "A")
    if not rd:
        q.flags &= ~dns.flags.RD
    try:
        r = await dns.asyncquery.udp(q, addr[0], port=addr[1], timeout=timeout)
    except (dns.exception.DNSException, OSError):
        return "TIMEOUT", frozenset()
    found = frozenset(rd_.address for s in r.answer if s.rdtype == dns.rdatatype.A for rd_ in s)
    return dns.rcode.to_text(r.rcode()), found


async def _spoof_phase(args: argparse.Namespace, info: LabInfo, egress: str
                       ) -> dict[str, Any]:
    zone = dns.name.from_text(args.spoof_zone).to_text()
    servers = await _servers_of(zone)
    stamp = time.time_ns() % 10**9
    total = int(args.resolve_rate * args.spoof_seconds)
    names = [f"s{i}x{stamp}.{zone}" for i in range(total)]
    ctx = mp.get_context("spawn")
    current = ctx.Value("i", 0, lock=False)
    stop_sniffer = ctx.Event()
    sniff_rx, sniff_tx = ctx.Pipe(duplex=False)
    spoof_rx, spoof_tx = ctx.Pipe(duplex=False)
    sniffer = ctx.Process(target=sniff, args=(egress, stop_sniffer, sniff_tx))
    spoofer = ctx.Process(target=spoof, args=(servers, egress, names, current, 20,
                                              args.spoof_rate, args.spoof_seconds,
                                              args.seed, spoof_tx))
    sniffer.start()
    await asyncio.sleep(1.0)  # the packet socket is bound before the first query
    spoofer.start()
    answers: dict[str, tuple[str, frozenset[str]]] = {}
    sem = asyncio.Semaphore(64)

    async def one(name: str) -> None:
        async with sem:
            answers[name] = await _ask(CANDIDATE, name)

    tasks = []
    start = time.monotonic()
    for i, name in enumerate(names):
        current.value = i
        tasks.append(asyncio.create_task(one(name)))
        await asyncio.sleep(max(0.0, start + (i + 1) / args.resolve_rate - time.monotonic()))
    await asyncio.gather(*tasks)
    spoof_counts = await asyncio.to_thread(_receive, spoof_rx, args.spoof_seconds + 30)
    spoofer.join(5)
    await asyncio.sleep(0.5)
    stop_sniffer.set()
    seen: list[tuple[int, bytes]] = await asyncio.to_thread(_receive, sniff_rx, 30)
    sniffer.join(5)
    # the truth: the zone's own server, asked directly; and the candidate's cache afterwards
    truth = {}
    for name in names:
        truth[name] = await _ask((servers[0], 53), name, timeout=2, rd=False)
    cached = {name: await _ask(CANDIDATE, name) for name in names}
    forged = sum(FORGED_ADDRESS in a for _, a in answers.values())
    forged_cached = sum(FORGED_ADDRESS in a for _, a in cached.values())
    differ = sum(answers[n] != truth[n] for n in names)
    rcodes: dict[str, int] = {}
    for rcode, _ in answers.values():
        rcodes[rcode] = rcodes.get(rcode, 0) + 1
    zone_labels = zone.rstrip(".").encode().lower()
    to_zone = [(p, n) for p, n in seen if n.lower().endswith(zone_labels)]
    spread = port_spread([p for p, _ in seen])
    upper, lower = case_letters([n for _, n in to_zone])
    return {"zone": zone, "servers": servers, "names": total,
            "forged_sent": spoof_counts["sent"],
            "forged_per_second": round(spoof_counts["sent"] / spoof_counts["seconds"]),
            "forged_accepted": forged, "forged_in_cache": forged_cached,
            "answers_unlike_lab": differ, "rcodes": rcodes,
            "upstream_queries_seen": len(seen), "upstream_to_zone": len(to_zone),
            "distinct_ports_per_1000": spread,
            "upper_letters": upper, "lower_letters": lower}


def summary_lines(r: dict[str, Any]) -> list[str]:
    f, s = r["fuzz"], r["spoof"]
    spread = s["distinct_ports_per_1000"]
    share = s["upper_letters"] / max(1, s["upper_letters"] + s["lower_letters"])
    return [
        f"candidate: {r['candidate']['processes']} processes on "
        f"{r['candidate']['listen'][0]}:{r['candidate']['listen'][1]}, "
        f"egress {r['candidate']['egress']}",
        f"fuzz: {f['udp']} UDP datagrams ({f['udp_per_second']}/s) and "
        f"{f['tcp_connections']} TCP connections ({f['tcp_messages']} messages, "
        f"{f['tcp_errors']} connect/send errors) and {f.get('tls_connections', 0)} DoT/DoH "
        f"connections ({f.get('tls_errors', 0)} errors) in {f['seconds']} s",
        f"fuzz: afterwards DoT answers {f.get('dot_answers_after')}, DoH answers "
        f"{f.get('doh_answers_after')}",
        f"fuzz: processes exited {f['crashed']}; health queries {f['health_ok']} ok, "
        f"{f['health_failed']} failed (p99 {f['health_p99_ms']} ms); kernel UDP "
        f"receive-buffer drops {f['kernel_udp_receive_drops']}; RSS "
        f"{f['rss_before_mb']} -> {f['rss_after_mb']} MB (every {RSS_EVERY:.0f} s: "
        f"{', '.join(str(m) for m in f.get('rss_every_10s_mb', []))})",
        *(f"fuzz: RSS of {role} every {RSS_EVERY:.0f} s: {', '.join(str(m) for m in mbs)} MB"
          for role, mbs in f.get("rss_every_10s_by_process_mb", {}).items()),
        f"spoof: {s['forged_sent']} forged answers ({s['forged_per_second']}/s) from "
        f"{', '.join(s['servers'])} for {s['names']} fresh names in {s['zone']}",
        f"spoof: forged answers accepted {s['forged_accepted']}, found in the cache after "
        f"{s['forged_in_cache']}; answers unlike the lab's {s['answers_unlike_lab']} "
        f"(rcodes {s['rcodes']}); processes exited {s['crashed']}",
        f"spoof: {s['upstream_queries_seen']} upstream queries seen ({s['upstream_to_zone']} "
        f"to the zone); distinct source ports per 1,000: "
        f"{min(spread) if spread else '-'}..{max(spread) if spread else '-'} over "
        f"{len(spread)} blocks; upper-case letters {s['upper_letters']} of "
        f"{s['upper_letters'] + s['lower_letters']} ({100 * share:.1f} %)",
    ] + _hostile_lines(r.get("hostile"))


def _hostile_lines(h: dict[str, Any] | None) -> list[str]:
    if h is None:
        return []
    return [
        f"hostile: {sum(h['bent'].values())} replies bent "
        f"({', '.join(f'{k} {v}' for k, v in sorted(h['bent'].items()))}), "
        f"{h['share']:.0%} of the lab's, {h['rounds']} fresh candidates",
        f"hostile: {h['answers']} answers, {h['poisoned_or_wrong']} poisoned or wrong "
        f"(secure names), SERVFAIL {h['servfail']}, timeouts {h['timeouts']}; "
        f"processes exited {h['crashed']}",
        *(f"hostile: {p}" for p in h["problems"]),
    ]
