"""Coverage-guided fuzz targets (atheris, libFuzzer) for the code that reads untrusted bytes.

``python -m shadowdns.fuzz TARGET [libFuzzer flags] [CORPUS_DIR ...]`` runs one target;
``shadowdns bench fuzz`` runs them all for a bounded time and reports (issue 24 part 1).

=============  ==============================================================================
``client``     a client packet through the worker: header checks, parse, refusals, the
               answer's render and truncation (the answerer behind it is a stub: the seam)
``fastpath``   the bytes fast path: ``read_query``, ``walk_reply``, ``ttl_offsets``, and
               :class:`~resolver.cache.reply.FastCache` storing the input as a reply to itself
               and as a query, then looking it up (plain and memo, now and later)
``judge``      the differ's own wire walker and its layout memo on the input split in two
``deckard``    the Deckard/testbound scenario parser on the input as text
``selftest``   raises on an input holding ``crash`` (its seed does): shows that a crash is
               caught, kept and reported (``bench fuzz --targets selftest`` must fail)
=============  ==============================================================================

What counts as a crash: any exception a target does not declare (a parser may reject input
with its own error type; the fast path and the worker must not raise at all).  When run as a
fuzzer, the targets' modules (ours and dnspython's) are imported under
``atheris.instrument_imports()`` so that libFuzzer sees their branches; imported elsewhere
(the tests) this module loads no atheris and instruments nothing.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGETS = ("client", "fastpath", "judge", "deckard")
SELFTEST = "selftest"


class _StubAnswerer:
    """The answerer the worker hands a well-formed question to: one A record per question."""

    async def answer(self, request: Any, query: Any) -> Any:
        import dns.message
        import dns.rrset

        reply = dns.message.make_response(query)
        reply.answer.append(dns.rrset.from_text(request.qname, 300, "IN", "A", "192.0.2.1"))
        return reply


def _client() -> Callable[[bytes], None]:
    from resolver.frames import FrameQueue
    from resolver.model import Frame
    from resolver.workers import Workers

    workers = Workers(FrameQueue(), _StubAnswerer())

    async def both(data: bytes) -> None:
        for transport in ("udp", "tcp"):
            frame = Frame(data, transport, ("127.0.0.1", 5353), time.monotonic())
            await workers.handle(frame)

    def one(data: bytes) -> None:
        asyncio.run(both(data))

    return one


def _fastpath() -> Callable[[bytes], None]:
    import resolver.fastpath as fp
    from resolver.cache.reply import FastCache

    def one(data: bytes) -> None:
        fp.read_query(data)
        fp.walk_reply(data)
        fp.ttl_offsets(data)
        cache = FastCache(1 << 20)
        cache.store(data, data, 100.0)
        half = len(data) // 2
        cache.store(data[:half], data[half:], 100.0)
        for now in (100.0, 150.5, 1e6):
            cache.lookup(data, now)
            cache.memo_lookup(data, now)
            cache.lookup(data[:half], now)

    return one


def _judge() -> Callable[[bytes], None]:
    import harness.differ.wire as wire

    def one(data: bytes) -> None:
        half = len(data) // 2
        a, b = data[:half], data[half:]
        for piece in (data, a, b):
            w = wire.walk(piece)
            if w is not None:
                wire.layout_of(piece, w)
            wire.memo_key(piece)
        memo = wire.Layouts()
        memo.remember(a)
        memo.fast_equal(b, a)
        memo.fast_equal(a, a, "v")

    return one


def _deckard() -> Callable[[bytes], None]:
    from deckard.scenario import parse
    from deckard.text import ScenarioError

    path = Path("fuzz.rpl")

    def one(data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        try:
            parse(path, text)
        except ScenarioError:
            pass  # the parser's own one-line rejection

    return one


def _selftest() -> Callable[[bytes], None]:
    def one(data: bytes) -> None:
        if b"crash" in data:
            raise RuntimeError("selftest: the crash the harness must report")

    return one


def seeds(name: str) -> list[bytes]:
    """A starting corpus for target ``name``: well-formed inputs the fuzzer mutates from."""
    if name == SELFTEST:
        return [b"a harmless seed", b"this one makes it crash"]
    if name == "deckard":
        shipped = sorted(Path(__file__).resolve().parent.parent.glob("tests/scenarios/**/*.rpl"))
        small = [p.read_bytes() for p in shipped if p.stat().st_size <= 6000]
        return small[:40] or [b"CONFIG_END\nSCENARIO_BEGIN x\n"
                                                            b"SCENARIO_END\n"]
    import dns.message
    import dns.rrset

    out: list[bytes] = []
    for qname, rdtype, do in (("www.example.lab.", "A", True), ("x.", "AAAA", False),
                              ("a.b.c.d.example.", "TXT", True), (".", "NS", False)):
        query = dns.message.make_query(qname, rdtype, want_dnssec=do)
        out.append(query.to_wire())
        reply = dns.message.make_response(query)
        reply.answer.append(dns.rrset.from_text(qname, 300, "IN", "CNAME", "t.example."))
        reply.answer.append(dns.rrset.from_text("t.example.", 60, "IN", "A", "192.0.2.1"))
        reply.authority.append(dns.rrset.from_text("example.", 30, "IN", "NS", "ns.example."))
        out.append(reply.to_wire())
        if name == "judge":
            out.append(query.to_wire() + reply.to_wire())
    return out


def target(name: str) -> Callable[[bytes], None]:
    """The one-input function of target ``name``."""
    makers = {"client": _client, "fastpath": _fastpath, "judge": _judge, "deckard": _deckard,
              SELFTEST: _selftest}
    if name not in makers:
        raise ValueError(f"unknown fuzz target {name!r} (known: {', '.join(makers)})")
    return makers[name]()


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in (*TARGETS, SELFTEST):
        print(f"usage: python -m shadowdns.fuzz {{{','.join((*TARGETS, SELFTEST))}}} "
              "[libFuzzer flags] "
              "[CORPUS_DIR ...]", file=sys.stderr)
        raise SystemExit(2)
    import atheris

    with atheris.instrument_imports():
        one = target(argv[1])  # imports the target's modules: instrumented
    atheris.Setup([argv[0], *argv[2:]], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
