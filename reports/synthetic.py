"""A synthetic store for the report's benchmark: many observations, written fast.

:func:`generate` creates a store with :class:`harness.store.Store` (so the schema is the
store's own), then fills one run with ``observations`` rows straight through SQL in big
``executemany`` batches.  The mix is meant to look like a real shadow run:

* names: popularity-weighted (Zipf-like) over a few thousand names under a few hundred
  registered domains, a third of them signed; qtypes mostly A and AAAA;
* responses: real DNS wire built once per name with dnspython and reused, NOERROR mostly,
  some NXDOMAIN, a few bogus SERVFAILs with EDE 6 on both sides;
* verdicts: about 93 % equal, 5 % noise (TTL decay, order, pools, geo, CDN, case, with the
  differ's ``explained`` evidence), 0.5 % real (answer data, rcode, DNSSEC bogus/secure and
  secure/insecure, EDE), 0.6 % unstable, 0.5 % timeouts; the candidate's wire differs where
  the verdict says it does, so examples and the DNSSEC matrix read true;
* latencies: a mixture of cache hits (about 1 ms) and misses (tens of ms) per target.

Everything derives from ``seed``; timestamps from ``started_at``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import numpy as np

from harness import evidence as ev
from harness.config import StoreConfig
from harness.store import Store

__all__ = ["SyntheticRun", "generate"]

CANDIDATE = "candidate"
REFERENCE = "kresd"
TLDS = ("com", "net", "org", "co.uk", "lab")
LABELS = ("www", "api", "cdn", "mail", "")
QTYPES = (("A", 0.62), ("AAAA", 0.26), ("HTTPS", 0.05), ("MX", 0.03), ("TXT", 0.02),
          ("NS", 0.02))
KINDS = (("equal", 0.934), ("noise", 0.05), ("real", 0.005), ("unstable", 0.006),
         ("timeout", 0.005))
NOISE = ((("ttl",), "answer.ttl", 0.45), (("order",), "answer.order", 0.2),
         (("pool",), "answer.data", 0.12), (("geo",), "answer.data", 0.08),
         (("cdn",), "cname.chain", 0.05), (("case",), "answer.case", 0.04),
         (("ttl", "order"), "answer.order", 0.06))
REAL = (("answer.data", 0.4), ("rcode", 0.2), ("dnssec.bogus_secure", 0.15),
        ("dnssec.secure_insecure", 0.15), ("dnssec.ede", 0.1))
NOTES = {
    "ttl": "TTLs at or below the authority's: decay",
    "order": "same records in another order",
    "pool": "addresses within the pool learned from the reference",
    "geo": "another vantage's answer, stable per vantage",
    "cdn": "CNAME chains agree up to the CDN's edge, under one registered domain",
    "case": "owner names differ only in case (0x20)",
}
BATCH = 50_000


@dataclass(frozen=True)
class SyntheticRun:
    path: Path
    run_id: int
    observations: int


@dataclass
class _Template:
    qname: str
    qtype: int
    signed: bool
    bogus: bool
    nx: bool
    query: bytes
    wires: dict[str, bytes]


def _message(qname: str, qtype: int, *, rcode: int = 0, ad: bool = False,
             answers: list[dns.rrset.RRset] | None = None,
             authority: list[dns.rrset.RRset] | None = None,
             ede: int | None = None, payload: int = 1232) -> bytes:
    q = dns.message.make_query(qname, dns.rdatatype.RdataType(qtype), want_dnssec=True,
                               payload=payload)
    r = dns.message.make_response(q)
    r.flags |= dns.flags.RA
    if ad:
        r.flags |= dns.flags.AD
    r.set_rcode(dns.rcode.Rcode(rcode))
    r.answer = list(answers or [])
    r.authority = list(authority or [])
    if ede is not None:
        r.use_edns(0, dns.flags.DO, payload, options=[dns.edns.EDEOption(dns.edns.EDECode(ede))])
    return bytes(r.to_wire())


def _rrset(owner: str, ttl: int, rdtype: str, *texts: str) -> dns.rrset.RRset:
    return dns.rrset.from_text_list(owner, ttl, "IN", rdtype, list(texts))


def _rrsig(owner: str, covered: str, signer: str, ttl: int) -> dns.rrset.RRset:
    labels = len(dns.name.from_text(owner).labels) - 1
    return _rrset(owner, ttl, "RRSIG",
                  f"{covered} 13 {labels} {ttl} 20300101000000 20240101000000 4242 {signer} "
                  "c2lnbmF0dXJlIGJ5dGVzIHRoYXQgc3RhbmQgaW4gZm9yIGEgcmVhbCBvbmU=")


def _data(qtype: str, i: int, alt: bool = False) -> list[str]:
    j = (i * 7 + (101 if alt else 0)) % 250 + 1
    if qtype == "A":
        return [f"192.0.2.{j}", f"198.51.100.{j}"]
    if qtype == "AAAA":
        return [f"2001:db8::{j:x}"]
    if qtype == "HTTPS":
        return [f'1 . alpn="h2,h3" port={443 if not alt else 8443}']
    if qtype == "MX":
        return [f"10 mx{j}.example.net."]
    if qtype == "TXT":
        return [f'"v=spf1 ip4:192.0.2.{j} -all"']
    return [f"ns{j % 4 + 1}.example.net.", f"ns{j % 4 + 2}.example.net."]


def _template(i: int, rng: np.random.Generator) -> _Template:
    site = i // 5
    tld = TLDS[site % len(TLDS)]
    domain = f"site{site}.{tld}."
    label = LABELS[i % len(LABELS)]
    qname = f"{label}.{domain}" if label else domain
    names, weights = zip(*QTYPES, strict=True)
    qtype_text = str(rng.choice(names, p=np.array(weights)))
    qtype = int(dns.rdatatype.from_text(qtype_text))
    signed = site % 3 == 0
    bogus = signed and site % 41 == 17
    nx = not bogus and i % 17 == 0
    soa = _rrset(domain, 3600, "SOA",
                 f"ns1.{domain} hostmaster.{domain} 2024010101 7200 3600 1209600 300")

    def answer(ttl: int, alt: bool = False, reverse: bool = False) -> list[dns.rrset.RRset]:
        data = _data(qtype_text, i, alt)
        if reverse:
            data = list(reversed(data))
        out = [_rrset(qname, ttl, qtype_text, *data)]
        if signed:
            out.append(_rrsig(qname, qtype_text, domain, 300))
        return out

    def negative(ttl: int) -> list[dns.rrset.RRset]:
        out = [dns.rrset.from_rdata(soa.name, ttl, soa[0])]
        if signed:
            out.append(_rrsig(domain, "SOA", domain, 300))
        return out

    wires: dict[str, bytes] = {}
    if bogus:
        wires["base"] = _message(qname, qtype, rcode=2, ede=6)
        wires["ede"] = _message(qname, qtype, rcode=2, ede=9)
    elif nx:
        wires["base"] = _message(qname, qtype, rcode=3, ad=signed, authority=negative(300))
        wires["ttl"] = _message(qname, qtype, rcode=3, ad=signed, authority=negative(287))
        wires["rcode"] = _message(qname, qtype, ad=signed, answers=answer(300))
    else:
        wires["base"] = _message(qname, qtype, ad=signed, answers=answer(300))
        wires["ttl"] = _message(qname, qtype, ad=signed, answers=answer(251))
        wires["order"] = _message(qname, qtype, ad=signed, answers=answer(300, reverse=True))
        wires["data"] = _message(qname, qtype, ad=signed, answers=answer(300, alt=True))
        wires["rcode"] = _message(qname, qtype, rcode=3, ad=signed, authority=negative(300))
        if signed:
            wires["bogus"] = _message(qname, qtype, rcode=2, ede=6)
            wires["insecure"] = _message(qname, qtype, answers=answer(300)[:1])
    query = dns.message.make_query(qname, dns.rdatatype.RdataType(qtype), want_dnssec=True,
                                   payload=1232)
    query.id = 0
    return _Template(qname, qtype, signed, bogus, nx, bytes(query.to_wire()), wires)


def _real_variant(t: _Template, category: str) -> tuple[str, str]:
    """(category, wire key) a real divergence of ``category`` can take on ``t``."""
    if category == "dnssec.ede" and t.bogus:
        return category, "ede"
    if category in ("dnssec.bogus_secure", "dnssec.secure_insecure") and t.signed \
            and "bogus" in t.wires:
        return category, "bogus" if category == "dnssec.bogus_secure" else "insecure"
    if category == "rcode" and "rcode" in t.wires:
        return category, "rcode"
    if "data" in t.wires:
        return "answer.data", "data"
    if "rcode" in t.wires:
        return "rcode", "rcode"
    return "dnssec.ede", "ede"


_NO_EVIDENCE = json.dumps(ev.Evidence().to_json())  # most rows: made once


def _difference(t: _Template, category: str, cand: str, ref: str) -> ev.DifferenceEntry:
    rtype = dns.rdatatype.to_text(dns.rdatatype.RdataType(t.qtype))
    if category == "answer.data":
        return ev.DifferenceEntry(category, f"answer: {t.qname} {rtype} data differs",
                               f"{t.qname} {rtype}", cand, ref)
    if category == "rcode":
        return ev.DifferenceEntry(category, f"rcode {cand} where the reference says {ref}",
                               None, cand, ref)
    if category == "dnssec.ede":
        return ev.DifferenceEntry(category, "Extended DNS Error codes differ", None, "9", "6")
    return ev.DifferenceEntry(category, f"DNSSEC {cand} where the reference is {ref}", None,
                           cand, ref)


def _evidence_real(t: _Template, category: str) -> ev.Evidence:
    if category == "dnssec.bogus_secure":
        states = ("bogus", "secure")
    elif category == "dnssec.secure_insecure":
        states = ("insecure", "secure")
    elif t.bogus:
        states = ("bogus", "bogus")
    elif t.signed:
        states = ("secure", "secure")
    else:
        states = ("insecure", "insecure")
    if category == "rcode":
        sides = ("NXDOMAIN", "NOERROR") if not t.nx else ("NOERROR", "NXDOMAIN")
    elif category == "answer.data":
        rtype = dns.rdatatype.to_text(dns.rdatatype.RdataType(t.qtype))
        sides = (" ".join(_data(rtype, 0, True)), " ".join(_data(rtype, 0)))
    else:
        sides = states
    return ev.Evidence(
        confirmed=True, reference_target=REFERENCE,
        differences=[_difference(t, category, *sides)],
        dnssec=ev.DnssecOutcomes(states[0], states[1]),
        confirmation=ev.Confirmation(candidate_changed=False, reference_changed=False,
                                  persisted=True),
        requeries=[ev.RequeryEntry(CANDIDATE, "confirm", t.qname, t.qtype,
                                answer="(as before)"),
                   ev.RequeryEntry(REFERENCE, "confirm", t.qname, t.qtype, flush=True,
                                answer="(as before)")])


def _choice(rng: np.random.Generator, table: tuple[tuple[Any, ...], ...], n: int) -> np.ndarray:
    weights = np.array([row[-1] for row in table], dtype=float)
    return rng.choice(len(table), size=n, p=weights / weights.sum())


def _latencies(rng: np.random.Generator, n: int, hit: float, miss: float) -> np.ndarray:
    hits = rng.random(n) < 0.8
    fast = rng.lognormal(np.log(hit), 0.35, n)
    slow = rng.lognormal(np.log(miss), 0.7, n)
    return np.where(hits, fast, slow)


def generate(path: Path, observations: int = 1_000_000, *, seed: int = 1,
             names: int = 2000, started_at: float = 1_735_689_600.0) -> SyntheticRun:
    """Create ``path`` (must not exist) holding one finished run of ``observations``."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path}: exists")
    store = Store(StoreConfig(path=path))
    store.open()
    store.close()
    rng = np.random.default_rng(seed)
    templates = [_template(i, rng) for i in range(names)]
    db = sqlite3.connect(str(path))
    try:
        db.execute("PRAGMA synchronous = OFF")
        duration = max(60.0, observations / 2000.0)
        run_config = {
            "intakes": [{"kind": "dnstap", "socket": "run/shadow/dnstap.sock", "tcp": None,
                         "file": None, "max_frame": 65536}],
            "candidate": {"name": CANDIDATE, "address": None},
            "references": [{"name": REFERENCE, "kind": "kresd",
                            "listen": ["127.55.0.2", 5053]}],
            "sampler": {"probability": 0.8},
            "judge": "differ",
        }
        versions = {CANDIDATE: "shadowdns resolver 0.1.0 (in process)",
                    REFERENCE: "Knot Resolver 5.6.0"}
        cur = db.execute("INSERT INTO runs (started_at, finished_at, status, config, versions)"
                         " VALUES (?,?,?,?,?)",
                         (started_at, started_at + duration, "finished",
                          json.dumps(run_config), json.dumps(versions)))
        run_id = int(cur.lastrowid or 0)
        totals = _fill(db, run_id, templates, observations, rng, started_at, duration)
        dropped = observations // 400
        seen = int(observations / 0.8) + dropped
        counters = {"seen": seen, "sampled": observations + dropped,
                    "unsampled": seen - observations - dropped, "filtered": 0, "shed": 0,
                    "duplicate": 0, "dropped": dropped, "compared": observations,
                    "failed": 0, "in_flight": 0}
        status = {"counters": counters, "verdicts": totals, "run_id": run_id,
                  "versions": versions,
                  "intakes_detail": [{"name": "dnstap", "kind": "dnstap", "finite": False,
                                      "what": "dnstap on run/shadow/dnstap.sock"}]}
        db.execute("UPDATE runs SET counters=? WHERE id=?", (json.dumps(status), run_id))
        db.commit()
    finally:
        db.close()
    return SyntheticRun(path, run_id, observations)


def _fill(db: sqlite3.Connection, run_id: int, templates: list[_Template], total: int,
          rng: np.random.Generator, started_at: float, duration: float) -> dict[str, int]:
    first = (db.execute("SELECT max(id) FROM observations").fetchone()[0] or 0) + 1
    ranks = np.arange(1, len(templates) + 1, dtype=float)
    popularity = 1.0 / ranks ** 0.9
    popularity /= popularity.sum()
    totals: dict[str, int] = {}
    done = 0
    while done < total:
        n = min(BATCH, total - done)
        ids = range(first + done, first + done + n)
        which = rng.choice(len(templates), size=n, p=popularity)
        kinds = _choice(rng, KINDS, n)
        noise = _choice(rng, NOISE, n)
        real = _choice(rng, REAL, n)
        do = rng.random(n) < 0.9
        seen = started_at + (done + np.arange(n)) * (duration / total)
        lat_c = _latencies(rng, n, 0.0009, 0.030).tolist()
        lat_r = _latencies(rng, n, 0.0011, 0.034).tolist()
        timeout_side = rng.random(n) < 0.6
        obs_rows = []
        answer_rows = []
        verdict_rows = []
        for k, oid in enumerate(ids):
            t = templates[int(which[k])]
            kind = KINDS[int(kinds[k])][0]
            ref_wire: bytes | None = t.wires["base"]
            cand_wire: bytes | None = ref_wire
            lc: float | None = lat_c[k]
            lr: float | None = lat_r[k]
            err_c: str | None = None
            err_r: str | None = None
            category = "equal"
            categories: list[str] = []
            explained: list[str] = []
            evidence: ev.Evidence | None = None
            if kind == "noise":
                by, category, _ = NOISE[int(noise[k])]
                wire_key = "order" if "order" in by else "ttl"
                if wire_key not in t.wires:
                    kind, category = "equal", "equal"
                else:
                    cand_wire = t.wires[wire_key]
                    explained = list(by)
                    categories = [category]
                    evidence = ev.Evidence(reference_target=REFERENCE, explained=[
                        ev.ExplainedEntry(b, NOTES[b], [category], 1 + (oid % 3)) for b in by])
            elif kind == "real":
                category, wire_key = _real_variant(t, REAL[int(real[k])][0])
                cand_wire = t.wires[wire_key]
                categories = [category]
                evidence = _evidence_real(t, category)
            elif kind == "unstable":
                if "data" in t.wires:
                    cand_wire = t.wires["data"]
                    category = "answer.data"
                else:
                    category = "dnssec.ede"
                    cand_wire = t.wires.get("ede", cand_wire)
                categories = [category]
                evidence = ev.Evidence(reference_target=REFERENCE, unstable_side="reference",
                                       confirmation=ev.Confirmation(
                                           candidate_changed=False, reference_changed=True,
                                           matches="reference re-query"))
            elif kind == "timeout":
                category = "timeout"
                side = "candidate" if timeout_side[k] else "reference"
                if side == "candidate":
                    cand_wire, lc, err_c = None, 5.0, "timeout"
                else:
                    ref_wire, lr, err_r = None, 5.0, "timeout"
                evidence = ev.Evidence(reference_target=REFERENCE, side=side, errors={
                    CANDIDATE if side == "candidate" else REFERENCE: "timeout"})
            totals[kind] = totals.get(kind, 0) + 1
            obs_rows.append((oid, run_id, seen[k], seen[k] + 0.05, "dnstap", "127.0.0.9",
                             1024 + oid % 60000, t.qname, t.qtype, 1, 1, 0, int(do[k]), 0,
                             1232, t.query, None))
            answer_rows.append((oid, CANDIDATE, cand_wire, lc, err_c))
            answer_rows.append((oid, REFERENCE, ref_wire, lr, err_r))
            verdict_rows.append((oid, run_id, kind, category, json.dumps(categories),
                                 json.dumps(explained),
                                 _NO_EVIDENCE if evidence is None
                                 else json.dumps(evidence.to_json()), seen[k] + 0.06))
        db.executemany("INSERT INTO observations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       obs_rows)
        db.executemany("INSERT INTO answers VALUES (?,?,?,?,?)", answer_rows)
        db.executemany("INSERT INTO verdicts VALUES (?,?,?,?,?,?,?,?)", verdict_rows)
        db.commit()
        done += n
    return totals

