"""The harness's records: what was asked, what each target answered, what the differ decided.

These are plain data shared by intake, dispatcher, store, differ and reports.  Wire bytes are
kept as received (answers are parsed only when compared), so a stored observation can be
re-judged later by a newer differ.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

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


@dataclass
class Observation:
    """A query and every target's answer to it; the unit the store keeps and the differ judges."""

    query: Query
    answers: dict[str, TargetAnswer] = field(default_factory=dict)
    staging_wire: bytes | None = None  # the staging resolver's own answer (dnstap CLIENT_RESPONSE)
    id: int | None = None
    run_id: int | None = None


class VerdictKind(enum.Enum):
    EQUAL = "equal"  # nothing to explain
    NOISE = "noise"  # differences explained by normalisers
    REAL = "real"  # a divergence that survived normalisation and confirmation
    UNSTABLE = "unstable"  # the reference disagrees with itself
    TIMEOUT = "timeout"  # a side did not answer


@dataclass
class Verdict:
    """What the differ concluded about one observation, with the evidence to explain it."""

    observation_id: int | None
    kind: VerdictKind
    category: str  # most important category, e.g. "rcode", "dnssec.secure_insecure", "answer"
    categories: list[str] = field(default_factory=list)  # every difference found
    explained_by: list[str] = field(default_factory=list)  # normalisers that absorbed noise
    evidence: dict[str, object] = field(default_factory=dict)
