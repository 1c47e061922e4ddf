"""A bundled client load for the lab: the manifest's names as a query list, and senders.

:func:`load_names` gives ``name type`` lines (the query-list format) for every name of the
lab's manifest -- ``quick`` leaves out the zone whose only server is dead, which costs every
resolver its full timeout.  :func:`client_load` asks a resolver like a few stub clients do and
waits for the answers (the demo's and the system tests' staging traffic).
:func:`mirror_blast` sends copies of queries at a fixed rate to a UDP mirror and does not
wait for anything (the benchmark's traffic).
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.message
import dns.rdatatype

from harness.intake.querylist import parse_line
from lab.manifest import manifest
from lab.run import LabInfo
from lab.world import load_world

__all__ = ["LoadResult", "client_load", "load_names", "mirror_blast"]


def load_names(lab: LabInfo | None = None, *, quick: bool = True,
               stable_only: bool = False) -> list[str]:
    """``name type`` lines for the lab's manifest names."""
    entries = manifest(load_world(lab.world if lab is not None else None))
    lines = []
    for e in entries:
        if quick and e.kind == "dead":
            continue
        if stable_only and (e.category != "stable" or e.dnssec == "bogus"):
            continue
        lines.append(f"{e.name.to_text()} {dns.rdatatype.to_text(e.rdtype)}")
    return lines


@dataclass
class LoadResult:
    sent: int = 0
    answered: int = 0
    timeouts: int = 0
    errors: int = 0


async def client_load(address: str, port: int, lines: list[str], *, concurrency: int = 8,
                      timeout: float = 6.0, dnssec: bool = True) -> LoadResult:
    """Ask ``address:port`` each line once, ``concurrency`` at a time, over UDP."""
    semaphore = asyncio.Semaphore(concurrency)
    result = LoadResult()

    async def one(name: str, qtype: int) -> None:
        async with semaphore:
            query = dns.message.make_query(name, dns.rdatatype.RdataType.make(qtype),
                                           want_dnssec=dnssec)
            result.sent += 1
            try:
                await dns.asyncquery.udp(query, address, timeout=timeout, port=port)
                result.answered += 1
            except dns.exception.Timeout:
                result.timeouts += 1
            except (OSError, dns.exception.DNSException):
                result.errors += 1

    entries = [e for e in (parse_line(line) for line in lines) if e is not None]
    await asyncio.gather(*(one(name, qtype) for name, qtype in entries))
    return result


def mirror_blast(target: tuple[str, int], lines: list[str], rate: float, seconds: float,
                 *, source: str = "127.0.0.1") -> int:
    """Send mirrored query packets round-robin from ``lines`` at ``rate`` per second for
    ``seconds`` (blocking; run it in a thread or process).  Returns how many were sent."""
    entries = [e for e in (parse_line(line) for line in lines) if e is not None]
    packets = [dns.message.make_query(name, dns.rdatatype.RdataType.make(qtype),
                                      want_dnssec=True).to_wire() for name, qtype in entries]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((source, 0))
    sent = 0
    start = time.monotonic()
    end = start + seconds
    try:
        while True:
            now = time.monotonic()
            if now >= end:
                break
            due = int((now - start) * rate)
            while sent < due:
                try:
                    sock.sendto(packets[sent % len(packets)], target)
                except BlockingIOError:
                    break
                sent += 1
            time.sleep(0.001)
    finally:
        sock.close()
    return sent
