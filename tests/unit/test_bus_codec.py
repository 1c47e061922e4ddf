"""The bus's stream entries (harness.bus.codec) and its sharding (harness.bus.shard)."""

from __future__ import annotations

import collections

import pytest

from harness.bus.codec import (
    CodecError,
    decode_query,
    decode_result,
    encode_observation,
    encode_outcome,
    encode_query,
)
from harness.bus.shard import shard_of
from harness.evidence import Evidence
from harness.records import (
    ExchangeLog,
    Observation,
    Query,
    Source,
    TargetAnswer,
    UpstreamExchange,
    Verdict,
    VerdictKind,
)

QUERY = Query(qname="WwW.Example.CO.uk.", qtype=28, qclass=1, rd=True, cd=True, do=True,
              ad=False, edns_payload=1232, source=Source.DNSTAP, client="192.0.2.7",
              seen_at=1_700_000_000.25, wire=b"\x12\x34\x01\x00", client_port=40000,
              tcp=True)


def test_a_query_round_trips() -> None:
    fields = encode_query(42, QUERY)
    assert fields[b"v"] == b"1"
    assert decode_query(fields) == (42, QUERY)


def test_a_query_without_wire_or_opt_round_trips() -> None:
    query = Query(qname="a.example.", qtype=1)
    assert decode_query(encode_query(7, query)) == (7, query)


def test_an_observation_with_its_verdict_round_trips() -> None:
    upstream = ExchangeLog(dropped=2)
    upstream.add(UpstreamExchange("192.0.2.53", "udp", b"\x01q", b"\x01a", "answer", 1.5, 0.01))
    upstream.add(UpstreamExchange("192.0.2.54", "tcp", b"\x02q", None, "timeout", 2.5, 3.0))
    observation = Observation(
        query=QUERY, id=42, staging_wire=b"staging",
        answers={"candidate": TargetAnswer("candidate", b"\x00wire", 0.012, None),
                 "kresd": TargetAnswer("kresd", None, None, "timeout")},
        upstream=upstream)
    verdict = Verdict(42, VerdictKind.REAL, "rcode", ["rcode", "answer"], ["ttl"],
                      Evidence(candidate="SERVFAIL", other={"raw": b"\xff", "set": ("x",)}))
    kind, query_id, back, verdict_back = decode_result(encode_observation(observation,
                                                                          verdict))
    assert (kind, query_id) == ("observation", 42)
    assert back is not None and verdict_back is not None
    assert back.query == QUERY and back.id == 42 and back.staging_wire == b"staging"
    assert list(back.answers) == ["candidate", "kresd"]  # the targets' order kept
    assert back.answers["candidate"] == observation.answers["candidate"]
    assert back.answers["kresd"] == observation.answers["kresd"]
    assert back.upstream is not None and back.upstream.dropped == 2
    assert back.upstream.exchanges == upstream.exchanges
    assert verdict_back.kind is VerdictKind.REAL and verdict_back.observation_id == 42
    assert verdict_back.categories == ["rcode", "answer"]
    assert verdict_back.explained_by == ["ttl"]
    # as the store writes evidence: bytes as hex, tuples as lists
    assert verdict_back.evidence == Evidence(candidate="SERVFAIL",
                                             other={"raw": "ff", "set": ["x"]})


def test_an_observation_without_verdict_or_upstream() -> None:
    observation = Observation(query=Query(qname="x.", qtype=1), id=3,
                              answers={"candidate": TargetAnswer("candidate", b"", 0.0)})
    _, _, back, verdict = decode_result(encode_observation(observation, None))
    assert verdict is None and back is not None and back.upstream is None
    assert back.answers["candidate"].wire == b""  # an empty response is not "no response"


@pytest.mark.parametrize("kind", ["failed", "expired", "capped"])
def test_outcomes_round_trip(kind: str) -> None:
    assert decode_result(encode_outcome(kind, 9)) == (kind, 9, None, None)


def test_another_version_is_refused() -> None:
    fields = encode_query(1, QUERY)
    fields[b"v"] = b"2"
    with pytest.raises(CodecError, match="entry version 2, this shadowdns reads 1"):
        decode_query(fields)
    del fields[b"v"]
    with pytest.raises(CodecError, match="entry version none"):
        decode_query(fields)


def test_damaged_entries_are_codec_errors() -> None:
    fields = encode_query(1, QUERY)
    fields[b"q"] = b"{not json"
    with pytest.raises(CodecError, match="field 'q': not JSON"):
        decode_query(fields)
    fields = encode_query(1, QUERY)
    fields[b"id"] = b"x"
    with pytest.raises(CodecError, match="'id'"):
        decode_query(fields)
    with pytest.raises(CodecError, match="unknown 'what'"):
        decode_result({b"v": b"1", b"kind": b"what", b"id": b"1"})


def test_a_registered_domain_lands_on_one_shard() -> None:
    k = 16
    names = ["example.co.uk.", "www.example.co.uk.", "A.B.Example.Co.UK", "x.example.co.uk"]
    assert len({shard_of(n, k) for n in names}) == 1
    assert shard_of("e1.a.akamaiedge.net.", k) == shard_of("e2.b.akamaiedge.net.", k)


def test_shards_spread_registered_domains() -> None:
    k = 8
    counts = collections.Counter(shard_of(f"www.domain{i}.com.", k) for i in range(4000))
    assert set(counts) == set(range(k))
    assert max(counts.values()) < 1.25 * 4000 / k  # about even
    assert all(0 <= shard_of(n, 3) < 3 for n in (".", "com.", "lab.", ""))


def test_shard_count_is_checked() -> None:
    with pytest.raises(ValueError):
        shard_of("example.com.", 0)
