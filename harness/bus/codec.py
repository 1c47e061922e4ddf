"""Stream entries: a sampled query, and a judged observation (or another outcome), as the
fields of a Redis Streams entry, and back.

Every entry carries ``v`` (:data:`VERSION`); a reader refuses a version it does not know
with :class:`CodecError` (counted, never guessed at).  Wire bytes travel as binary field
values; the rest is JSON.

Query entry::

    v      "1"
    id     the query's ID (the observation's ID in the store)
    q      JSON: qname, qtype, qclass, flags, edns_payload, source, client, client_port,
           seen_at, tcp
    w      the original packet ("" when there was none)

Result entry (``kind`` "observation")::

    v, kind, id, q, w   as above
    a      JSON: per target, in the targets' order: name, latency, error, has_wire
    a0..   each target's response wire, in the same order
    s      the staging resolver's answer ("" when none)
    r      JSON: the verdict (kind, category, categories, explained_by, evidence), or null
    u      JSON: the candidate's upstream exchanges (wire as hex), or null

Other outcomes (``kind`` "failed", "expired", "capped") carry ``v``, ``kind`` and ``id``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

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
from harness.store import json_text

__all__ = ["OUTCOMES", "VERSION", "CodecError", "Fields", "Result", "decode_query",
           "decode_result", "encode_observation", "encode_outcome", "encode_query"]

VERSION = b"1"
OUTCOMES = ("failed", "expired", "capped")
"""Result kinds other than "observation": a sampled query that ends in a counted bucket."""

Fields = dict[bytes, bytes]


class CodecError(ValueError):
    """An entry this version cannot read (the message says which field, and why)."""


def _json(value: object) -> bytes:
    return json_text(value).encode()  # as the store writes evidence (bytes as hex, ...)


def encode_query(query_id: int, query: Query) -> Fields:
    """A sampled query, numbered ``query_id``, as a query stream entry."""
    meta = {"qname": query.qname, "qtype": query.qtype, "qclass": query.qclass,
            "rd": query.rd, "cd": query.cd, "do": query.do, "ad": query.ad,
            "edns_payload": query.edns_payload, "source": query.source.value,
            "client": query.client, "client_port": query.client_port,
            "seen_at": query.seen_at, "tcp": query.tcp}
    return {b"v": VERSION, b"id": str(query_id).encode(), b"q": _json(meta),
            b"w": query.wire or b""}


def _get(fields: Mapping[bytes, bytes], key: bytes) -> bytes:
    value = fields.get(key)
    if value is None:
        raise CodecError(f"no field {key.decode()!r}")
    return value


def _version(fields: Mapping[bytes, bytes]) -> None:
    version = fields.get(b"v")
    if version != VERSION:
        shown = version.decode(errors="replace") if version is not None else "none"
        raise CodecError(f"entry version {shown}, this shadowdns reads {VERSION.decode()}")


def _load(fields: Mapping[bytes, bytes], key: bytes) -> Any:
    try:
        return json.loads(_get(fields, key))
    except (ValueError, UnicodeDecodeError) as e:
        raise CodecError(f"field {key.decode()!r}: not JSON ({e})") from None


def _id(fields: Mapping[bytes, bytes]) -> int:
    text = _get(fields, b"id")
    if not text.isdigit():
        raise CodecError(f"field 'id': {text!r} is not a number")
    return int(text)


def decode_query(fields: Mapping[bytes, bytes]) -> tuple[int, Query]:
    """A query stream entry as (the query's ID, the query)."""
    _version(fields)
    meta = _load(fields, b"q")
    try:
        query = Query(qname=str(meta["qname"]), qtype=int(meta["qtype"]),
                      qclass=int(meta["qclass"]), rd=bool(meta["rd"]), cd=bool(meta["cd"]),
                      do=bool(meta["do"]), ad=bool(meta["ad"]),
                      edns_payload=meta["edns_payload"], source=Source(meta["source"]),
                      client=meta["client"], client_port=meta["client_port"],
                      seen_at=float(meta["seen_at"]), wire=_get(fields, b"w") or None,
                      tcp=bool(meta["tcp"]))
    except (KeyError, TypeError, ValueError) as e:
        raise CodecError(f"field 'q': {type(e).__name__}: {e}") from None
    return _id(fields), query


def encode_observation(observation: Observation, verdict: Verdict | None) -> Fields:
    """A judged observation (its ID set: the query's) as a result stream entry."""
    if observation.id is None:
        raise ValueError("an observation on the bus needs its ID")
    fields = encode_query(observation.id, observation.query)
    fields[b"kind"] = b"observation"
    answers = list(observation.answers.values())
    fields[b"a"] = _json([{"target": a.target, "latency": a.latency, "error": a.error,
                           "has_wire": a.wire is not None} for a in answers])
    for i, a in enumerate(answers):
        fields[b"a%d" % i] = a.wire or b""
    fields[b"s"] = observation.staging_wire or b""
    fields[b"r"] = _json(None if verdict is None else {
        "kind": verdict.kind.value, "category": verdict.category,
        "categories": verdict.categories, "explained_by": verdict.explained_by,
        "evidence": verdict.evidence.to_json()})
    upstream = observation.upstream
    fields[b"u"] = _json(None if upstream is None else {
        "dropped": upstream.dropped,
        "exchanges": [[x.server, x.transport, x.query.hex(),
                       None if x.answer is None else x.answer.hex(), x.outcome, x.at,
                       x.elapsed] for x in upstream.exchanges]})
    return fields


def encode_outcome(kind: str, query_id: int) -> Fields:
    """A sampled query that ends in a counted bucket (:data:`OUTCOMES`)."""
    if kind not in OUTCOMES:
        raise ValueError(f"unknown outcome {kind!r}")
    return {b"v": VERSION, b"kind": kind.encode(), b"id": str(query_id).encode()}


Result = tuple[str, int, Observation | None, Verdict | None]
"""(kind, the query's ID, the observation and its verdict -- for kind "observation")."""


def decode_result(fields: Mapping[bytes, bytes]) -> Result:
    """A result stream entry."""
    _version(fields)
    kind = _get(fields, b"kind").decode(errors="replace")
    if kind in OUTCOMES:
        return kind, _id(fields), None, None
    if kind != "observation":
        raise CodecError(f"field 'kind': unknown {kind!r}")
    query_id, query = decode_query(fields)
    try:
        answers = {}
        for i, a in enumerate(_load(fields, b"a")):
            wire = _get(fields, b"a%d" % i)
            answers[str(a["target"])] = TargetAnswer(
                str(a["target"]), wire if a["has_wire"] else None, a["latency"], a["error"])
        observation = Observation(query=query, answers=answers,
                                  staging_wire=_get(fields, b"s") or None, id=query_id)
        r = _load(fields, b"r")
        verdict = None if r is None else Verdict(
            query_id, VerdictKind(r["kind"]), str(r["category"]), list(r["categories"]),
            list(r["explained_by"]), Evidence.from_json(r["evidence"], "field 'r' evidence"))
        u = _load(fields, b"u")
        if u is not None:
            log = ExchangeLog(max_bytes=1 << 62, dropped=int(u["dropped"]))
            for server, transport, q, answer, outcome, at, elapsed in u["exchanges"]:
                log.add(UpstreamExchange(server, transport, bytes.fromhex(q),
                                         None if answer is None else bytes.fromhex(answer),
                                         outcome, float(at), float(elapsed)))
            observation.upstream = log
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, CodecError):
            raise
        raise CodecError(f"observation {query_id}: {type(e).__name__}: {e}") from None
    return "observation", query_id, observation, verdict
