"""Recording the in-process candidate's upstream exchanges at the transport seam.

The candidate's conductor talks to authoritative servers through a
:class:`~resolver.conductor.transport.Transport`; :class:`RecordingTransport` wraps it and,
while an :class:`ExchangeLog` is current (a :mod:`contextvars` variable the pipeline sets
around each sampled query, so the dispatcher's task and everything it awaits -- the first
ask and the judge's re-queries -- inherit it), appends one :class:`UpstreamExchange` per
query sent: server address, transport, query and answer wire, wall-clock time, seconds
taken, and the outcome (``answer``, ``timeout``, ``error: ...``).

A log is bounded: at most ``max_bytes`` of wire per query; what does not fit is counted in
:attr:`ExchangeLog.dropped` and never stored.  A query answered from the cache records
nothing; an exchange joined while another query had it in flight is recorded for that
other query only (the conductor sends it once).

The pipeline keeps the log with the observation and the store writes it only when the
verdict is real or undecided (see :data:`KEEP_KINDS`); from it ``shadowdns report
scenario`` writes a Deckard scenario (:mod:`harness.scenario`).
"""

from __future__ import annotations

import contextvars
import time

import dns.message

from harness.records import ExchangeLog, UpstreamExchange
from resolver.conductor.transport import Transport, TransportError

__all__ = ["CURRENT", "ExchangeLog", "RecordingTransport", "UpstreamExchange"]

MAX_WIRE = 65535

CURRENT: contextvars.ContextVar[ExchangeLog | None] = contextvars.ContextVar(
    "shadowdns_upstream_log", default=None)


class RecordingTransport:
    """A Transport that records into the current :class:`ExchangeLog` (if any)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner

    async def query(self, address: str, message: dns.message.Message, *, tcp: bool,
                    timeout: float) -> dns.message.Message:
        log = CURRENT.get()
        if log is None:
            return await self.inner.query(address, message, tcp=tcp, timeout=timeout)
        at = time.time()
        start = time.monotonic()
        proto = "tcp" if tcp else "udp"
        wire = message.to_wire(max_size=MAX_WIRE)
        try:
            response = await self.inner.query(address, message, tcp=tcp, timeout=timeout)
        except TimeoutError:
            log.add(UpstreamExchange(address, proto, wire, None, "timeout", at,
                                     time.monotonic() - start))
            raise
        except TransportError as e:
            log.add(UpstreamExchange(address, proto, wire, None, f"error: {e}", at,
                                     time.monotonic() - start))
            raise
        answer = response.to_wire(max_size=MAX_WIRE)
        log.add(UpstreamExchange(address, proto, wire, answer, "answer", at,
                                 time.monotonic() - start))
        return response
