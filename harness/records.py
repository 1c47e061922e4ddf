"""The harness's records: what was asked, what each target answered, what the differ decided.

These are plain data shared by intake, dispatcher, store, differ and reports.  Wire bytes are
kept as received (answers are parsed only when compared), so a stored observation can be
re-judged later by a newer differ.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from harness.evidence import Evidence

CANDIDATE = "candidate"
"""The key of the candidate's answer in :attr:`Observation.answers` (references use their own
names, such as ``"kresd"``)."""


class Source(enum.Enum):
    """Where a query came from."""

    UDP_MIRROR = "udp_mirror"
    DNSTAP = "dnstap"
    PCAP = "pcap"
    QUERY_LIST = "query_list"


@dataclass(frozen=True)
class Query:
    """One client query as the harness saw it (the mirrored or recorded packet)."""

    qname: str  # as the client sent it (0x20 case kept)
    qtype: int
    qclass: int = 1
    rd: bool = True
    cd: bool = False
    do: bool = False
    ad: bool = False
    edns_payload: int | None = None  # None: the client sent no OPT
    source: Source = Source.QUERY_LIST
    client: str | None = None  # the original client's address, where known
    seen_at: float = 0.0  # wall-clock seconds
    wire: bytes | None = None  # the original packet, where there was one
    client_port: int | None = None  # the original client's source port, where known
    tcp: bool = False  # it arrived over a stream (TCP, DoT, DoH): replayed over TCP


@dataclass
class TargetAnswer:
    """One target's (candidate's or a reference's) outcome for one query."""

    target: str
    wire: bytes | None = None  # the response as received
    latency: float | None = None  # seconds
    error: str | None = None  # "timeout", "network: ...": no wire then
    received: float | None = None  # time.monotonic() when the answer arrived (TTL decay)
    flushed: bool | None = None  # a re-query asked after a flush: did the flush succeed?


DEFAULT_UPSTREAM_BYTES = 256 * 1024
"""Wire bytes of upstream exchanges recorded per sampled query (a cold DNSSEC resolution
on the lab takes ~10-40 KiB)."""


@dataclass(frozen=True, slots=True)
class UpstreamExchange:
    """One query the candidate sent to an authoritative server, and what came back."""

    server: str
    transport: str  # "udp" or "tcp"
    query: bytes
    answer: bytes | None  # None: timeout or network error
    outcome: str  # "answer", "timeout", "error: ..."
    at: float  # wall-clock seconds when sent
    elapsed: float  # seconds until the answer (or the failure)

    @property
    def size(self) -> int:
        return len(self.query) + len(self.answer or b"") + 64

    def stored(self) -> UpstreamExchange:
        return self


class Recorded(Protocol):
    """An exchange as recorded: its (estimated) size, and its stored form (wire bytes),
    which a recorder may make only when the exchange is kept."""

    @property
    def size(self) -> int: ...

    def stored(self) -> UpstreamExchange: ...


@dataclass
class ExchangeLog:
    """The exchanges of one sampled query, bounded by ``max_bytes`` (drops counted)."""

    max_bytes: int = DEFAULT_UPSTREAM_BYTES
    items: list[Recorded] = field(default_factory=list)
    bytes: int = 0
    dropped: int = 0

    def add(self, exchange: Recorded) -> None:
        size = exchange.size
        if self.bytes + size > self.max_bytes:
            self.dropped += 1
            return
        self.bytes += size
        self.items.append(exchange)

    @property
    def exchanges(self) -> list[UpstreamExchange]:
        """The exchanges in stored form (made, and kept, on first use)."""
        stored = [x.stored() for x in self.items]
        self.items = list[Recorded](stored)
        return stored


@dataclass
class Observation:
    """A query and every target's answer to it; the unit the store keeps and the differ judges."""

    query: Query
    answers: dict[str, TargetAnswer] = field(default_factory=dict)
    staging_wire: bytes | None = None  # the staging resolver's own answer (dnstap CLIENT_RESPONSE)
    id: int | None = None
    run_id: int | None = None
    upstream: ExchangeLog | None = None  # the candidate's upstream exchanges (if recorded)


class VerdictKind(enum.Enum):
    EQUAL = "equal"  # nothing to explain
    NOISE = "noise"  # differences explained by normalisers
    REAL = "real"  # a divergence that survived normalisation and confirmation
    UNSTABLE = "unstable"  # the reference disagrees with itself
    TIMEOUT = "timeout"  # a side did not answer
    UNDECIDED = "undecided"  # a divergence the confirmation budget left unconfirmed


@dataclass
class Verdict:
    """What the differ concluded about one observation, with the evidence to explain it."""

    observation_id: int | None
    kind: VerdictKind
    category: str  # most important category, e.g. "rcode", "dnssec.secure_insecure", "answer"
    categories: list[str] = field(default_factory=list)  # every difference found
    explained_by: list[str] = field(default_factory=list)  # normalisers that absorbed noise
    evidence: Evidence = field(default_factory=Evidence)  # harness.evidence
