"""DNSSEC validation wrapped around the recursor (RFC 4035 §5), as Unbound and Knot Resolver do.

:class:`ValidatingRecursor` has the recursor's ``resolve(request, exchanger)`` and returns a
:class:`ValidatedResolution`: the recursor's answer plus its :class:`Security` and the
Extended DNS Errors (RFC 8914) that say why.  For every RRset of the answer (in chain order,
so CNAME/DNAME chains across zones are covered) and for the denial at the chain's end it
decides secure, insecure, bogus or indeterminate; the answer gets the weakest of them.  A
bogus answer becomes SERVFAIL with an EDE, unless the client set CD, in which case nothing
is validated and the data comes back as it is.

Chain of trust.  From the closest trust anchor (:class:`~resolver.trust.TrustAnchors`) the
validator walks down, one label at a time, to the zone that signed the data (the RRSIG
signer; for unsigned data the owner name, so that a missing signature in a signed zone is
told apart from an unsigned delegation).  At each label it asks the DS RRset through the
inner recursor (sub-requests: cache and conductor are shared): a signed DS leads to the
child's DNSKEY RRset, which one of the DS records must vouch for; a signed denial proves an
unsigned delegation (insecure), or no cut at all (the walk goes on).  What it learns is kept
per zone (:class:`KeyEntry`: secure with keys, insecure, or bogus for :data:`BOGUS_TTL_S`),
validated DS and DNSKEY RRsets go into the RRset cache as secure, and every answer RRset's
verdict is stored beside it in the cache, so a cached answer is not validated twice.

Everything is capped: DS/DNSKEY fetches per client query (:data:`MAX_FETCHES`) and the
entries each memo holds.
"""

from __future__ import annotations

import collections
import dataclasses
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import dns.name
import dns.rcode
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.rrset

from resolver.cache.dnscache import FLUSH_TYPES, MAX_TTL_S, CachedRRset, Rank, Security
from resolver.model import Request, with_ttl
from resolver.recursor import Recursor, Resolution, aggressive
from resolver.recursor import validate as v
from resolver.recursor.exchanger import Exchanger
from resolver.trust import TrustAnchors

__all__ = [
    "BOGUS_TTL_S",
    "MAX_FETCHES",
    "KeyEntry",
    "ValidatedResolution",
    "ValidatingRecursor",
    "ValidatorConfig",
]

T = dns.rdatatype
Name = dns.name.Name

MAX_FETCHES = 48
"""DS and DNSKEY sub-requests per client query (a 10-label name needs about 20)."""

BOGUS_TTL_S = 60
"""How long a bogus verdict stands before the data is fetched and checked again (Unbound's
val-bogus-ttl)."""

MAX_RESTARTS = 5
"""Times a bogus answer, DNSKEY set or DS set is fetched again from servers that have not yet
given bogus data for it (Unbound's VAL_MAX_RESTART_COUNT with its server blacklist): one bad
or stale server of several must not make a name fail."""

MAX_SYNTH_CHAIN = 8
"""CNAMEs synthesised from cached wildcards followed in a row for one question."""

MAX_KEY_ENTRIES = 10_000
"""Zones whose validation state (keys, insecure, bogus) is remembered."""

MAX_CUT_ENTRIES = 50_000
"""Names remembered as proven not to be zone cuts."""

MAX_REASONS = 10_000
"""Reasons remembered for RRsets cached as bogus or insecure-with-EDE."""

_SENTINEL = re.compile(rb"root-key-sentinel-(is|not)-ta-(\d{5})")
"""RFC 8509 §2: the sentinel label, its key tag in five decimal digits."""

_WEAKNESS = {Security.BOGUS: 0, Security.INDETERMINATE: 1, Security.INSECURE: 2,
             Security.SECURE: 3}


@dataclass
class ValidatedResolution(Resolution):
    """A :class:`Resolution` with the validator's verdict and the EDEs explaining it."""

    security: Security = Security.INDETERMINATE
    ede: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ValidatorConfig:
    nsec3_max_iterations: int = v.NSEC3_MAX_ITERATIONS  # above: insecure, EDE 27
    nsec3_bogus_iterations: int | None = None  # above: bogus (SERVFAIL), EDE 27
    bogus_ttl: int = BOGUS_TTL_S
    max_fetches: int = MAX_FETCHES
    # Algorithms whose signatures are accepted without the cryptographic check: Unbound's
    # test options fake-sha1 (DSA, RSASHA1 and their NSEC3 aliases: 3 5 6 7) and fake-dsa
    # (3 6), which its own test scenarios rely on.  Empty (check everything) in production.
    unchecked_algorithms: frozenset[int] = frozenset()
    # Unbound's val-override-date: -1: signatures are valid whatever their validity window
    # says (a debugging option of Unbound's, used by its test scenarios).  Off in production.
    ignore_dates: bool = False
    # Unbound's harden-dnssec-stripped (yes by default): off, a trust-anchored or DS-secured
    # zone whose DNSKEY RRset is missing or fails to validate is made insecure ("behaves
    # like there is no trust anchor") instead of bogus.
    harden_dnssec_stripped: bool = True


@dataclass(frozen=True)
class KeyEntry:
    """What the validator knows of a zone: secure (with its validated DNSKEY RRset),
    insecure (an unsigned delegation, unsupported algorithms, a negative anchor) or bogus."""

    zone: Name
    security: Security
    keys: dns.rrset.RRset | None = None
    expires: float = 0.0  # monotonic
    ede: v.Ede | None = None
    why: str = ""

    @property
    def outcome(self) -> v.Outcome:
        return v.Outcome(self.security, self.ede, self.why)


@dataclass
class _Ctx:
    """One client query's validation: its exchanger and what it has spent."""

    exchanger: Exchanger
    fetches: int = 0
    upstream: int = 0


@dataclass(frozen=True)
class _Piece:
    """The verdict on one part of an answer (an RRset, or the denial at the chain's end)."""

    outcome: v.Outcome
    ttl: int | None = None  # the capped TTL of a secure RRset
    cached: bool = False  # the verdict was the cache's, not worked out now
    chain: bool = False  # the verdict is the chain of trust's (the zone's keys), not the data's
    rcode: int | None = None  # the rcode the proof shows, when it is not the one received


def _data_failed(pieces: Sequence[_Piece]) -> bool:
    """Some bogus piece failed on its own data, worked out now (not a cached verdict, not
    the zone's keys): fetching it from another server may help."""
    return any(p.outcome.bogus and not p.chain and not p.cached for p in pieces)


K = TypeVar("K")
V = TypeVar("V")


class _Memo(Generic[K, V]):
    """A bounded map that forgets its oldest entries first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        return self._data.get(key)

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.capacity:
            self._data.popitem(last=False)

    def pop(self, key: K) -> None:
        self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()


def _pairs(
    section: Sequence[dns.rrset.RRset],
) -> list[tuple[dns.rrset.RRset, dns.rrset.RRset | None]]:
    """Each non-RRSIG RRset of a section with the RRSIG RRset covering it, in order."""
    sigs = {(r.name, r.covers): r for r in section if r.rdtype == T.RRSIG}
    return [(r, sigs.get((r.name, r.rdtype))) for r in section if r.rdtype != T.RRSIG]


def _dname_source(
    cname: dns.rrset.RRset, earlier: Sequence[tuple[dns.rrset.RRset, dns.rrset.RRset | None]]
) -> int | None:
    """The index of the DNAME in ``earlier`` that ``cname`` is the synthesis of (RFC 6672 §5.3.1:
    the CNAME is unsigned; its DNAME's signature vouches for it)."""
    if len(cname) != 1:
        return None
    for i, (r, _) in enumerate(earlier):
        if r.rdtype != T.DNAME or not cname.name.is_subdomain(r.name) or cname.name == r.name:
            continue
        try:
            target = cname.name.relativize(r.name).derelativize(r[0].target)
        except dns.name.NameTooLong:
            continue
        if cname[0].target == target:
            return i
    return None


def _chain_end(
    qname: Name, qtype: int, pairs: Sequence[tuple[dns.rrset.RRset, dns.rrset.RRset | None]]
) -> tuple[Name, bool]:
    """Where the answer's CNAME chain ends, and whether data of ``qtype`` is there."""
    by_key = {(r.name, r.rdtype): r for r, _ in pairs}
    name = qname
    seen = {name}
    while True:
        if qtype == T.ANY and any(r.name == name for r, _ in pairs):
            return name, True
        if (name, qtype) in by_key:
            return name, True
        cname = by_key.get((name, T.CNAME))
        if cname is None or qtype == T.CNAME:
            return name, False
        name = cname[0].target
        if name in seen:
            return name, False
        seen.add(name)


class ValidatingRecursor:
    """The recursor with DNSSEC validation: ``resolve`` as :class:`Recursor`'s, validated."""

    def __init__(
        self, inner: Recursor, anchors: TrustAnchors, config: ValidatorConfig | None = None
    ) -> None:
        self.inner = inner
        self.cache = inner.cache
        self.clock = inner.clock
        self.anchors = anchors
        self.config = config or ValidatorConfig()
        self.limits = v.Limits(self.config.nsec3_max_iterations,
                               self.config.nsec3_bogus_iterations)
        self._keys: _Memo[Name, KeyEntry] = _Memo(MAX_KEY_ENTRIES)
        self._cuts: _Memo[Name, tuple[v.DsProof, float]] = _Memo(MAX_CUT_ENTRIES)
        self._reasons: _Memo[tuple[Name, int], v.Outcome] = _Memo(MAX_REASONS)
        self.stats: collections.Counter[str] = collections.Counter()
        inner.signed_zone_hint = self._expects_dnssec

    def _verify(self, rrset: dns.rrset.RRset, sigs: dns.rrset.RRset | None,
                keys: Iterable[v.DNSKEY], zone: Name, now: float) -> v.SigCheck:
        return v.verify_rrset(rrset, sigs, keys, zone, now, self.config.unchecked_algorithms,
                              self.config.ignore_dates)

    def _expects_dnssec(self, zone: Name) -> bool:
        """Is ``zone`` known to be signed: a (positive) trust anchor there, or keys found
        secure or bogus?  (Unbound's iter_indicates_dnssec, for the recursor.)"""
        if zone in self.anchors.zones and not self.anchors.is_negative(zone):
            return True
        entry = self._key_entry(zone, self.clock.monotonic())
        return entry is not None and entry.security in (Security.SECURE, Security.BOGUS)

    # -- the client's question ------------------------------------------------------------------

    async def resolve(self, request: Request, exchanger: Exchanger) -> ValidatedResolution:
        res = await self._resolve(request, exchanger, 0)
        sentinel = self._sentinel(request, res)
        if sentinel is None:
            return res
        self.stats["sentinel_servfail"] += 1
        return ValidatedResolution(dns.rcode.SERVFAIL, [], [], res.upstream_queries, sentinel,
                                   Security.INDETERMINATE, [])

    async def _resolve(self, request: Request, exchanger: Exchanger,
                       depth: int) -> ValidatedResolution:
        if not request.cd and self.anchors:
            synthesised = self._aggressive(request)
            if synthesised is not None:
                return await self._follow(synthesised, request, exchanger, depth)
        res = await self.inner.resolve(request, exchanger)
        if request.cd or not self.anchors or request.qtype == T.RRSIG:
            # qtype RRSIG: signatures are not signed, so there is nothing to validate them
            # with (RFC 4035 §3.2.1 lets them through unchecked; Unbound and kresd do)
            self.stats["unvalidated"] += 1
            return _validated(res, res.upstream_queries, Security.INDETERMINATE, [])
        ctx = _Ctx(exchanger)
        spent = res.upstream_queries
        verdict, pieces, answer = await self._validate(request, res, ctx)
        if verdict.bogus and res.upstream_queries == 0 and not any(
            p.cached and p.outcome.bogus for p in pieces
        ):
            # Bogus from the cache alone (glue, a referral's NS set, data cached unvalidated
            # or without its wildcard proof): forget it and ask once more, as Unbound
            # retries a bogus answer.
            self.stats["bogus_retries"] += 1
            self._forget(res)
            res = await self.inner.resolve(request, exchanger)
            spent += res.upstream_queries
            verdict, pieces, answer = await self._validate(request, res, ctx)
        avoid: frozenset[str] = frozenset()
        for _ in range(MAX_RESTARTS):
            if not (verdict.bogus and res.origins and _data_failed(pieces)):
                break
            # The data itself failed (the zone's keys are fine): ask the zone's other
            # servers, not those that gave it (RFC 4035 §5.5 lets a resolver try others;
            # Unbound blacklists the sources and restarts).  Nobody left: it stays bogus.
            avoid |= res.origins
            self.stats["bogus_restarts"] += 1
            stashed = self._forget(res, pieces, request)
            retry = await self.inner.resolve(request, exchanger, avoid)
            spent += retry.upstream_queries
            if retry.rcode == dns.rcode.SERVFAIL:
                self._restore(stashed)  # keep the bogus verdicts (val-bogus-ttl)
                break
            res = retry
            verdict, pieces, answer = await self._validate(request, res, ctx)
        spent += ctx.upstream
        self.stats[verdict.security.value] += 1
        if verdict.bogus:
            why = f"validation failure <{request.qname} {_type(request.qtype)}>: {verdict.why}"
            code = int(verdict.ede or v.Ede.DNSSEC_BOGUS)
            return ValidatedResolution(
                dns.rcode.SERVFAIL, [], [], spent, why, Security.BOGUS, [(code, verdict.why)]
            )
        ede = [] if verdict.ede is None else [(int(verdict.ede), verdict.why)]
        rcode = next((p.rcode for p in pieces if p.rcode is not None), res.rcode)
        return ValidatedResolution(rcode, answer, res.authority, spent, res.reason,
                                   verdict.security, ede, extra_authority=res.extra_authority,
                                   extra_additional=res.extra_additional)

    def _sentinel(self, request: Request, res: ValidatedResolution) -> str | None:
        """RFC 8509 root-key-sentinel: why a secure A/AAAA answer must be SERVFAIL, or None.

        ``root-key-sentinel-is-ta-NNNNN`` asks "is key NNNNN one of your root trust
        anchors?" and ``root-key-sentinel-not-ta-NNNNN`` the opposite; a "no" is a SERVFAIL,
        so a client can tell which root keys its resolver trusts.  Only validated (secure)
        A and AAAA answers, and only the leftmost label of the question, count.
        """
        if res.security is not Security.SECURE or res.rcode != dns.rcode.NOERROR \
                or request.qtype not in (T.A, T.AAAA):
            return None
        if len(request.qname.labels) < 2:
            return None
        m = _SENTINEL.fullmatch(request.qname.labels[0].lower())
        if m is None:
            return None
        tag = int(m.group(2))
        trusted = tag in self.anchors.key_tags(dns.name.root)
        if m.group(1) == b"is" and not trusted:
            return f"root-key-sentinel: key {tag} is not a root trust anchor"
        if m.group(1) == b"not" and trusted:
            return f"root-key-sentinel: key {tag} is a root trust anchor"
        return None

    async def _validate(
        self, request: Request, res: Resolution, ctx: _Ctx
    ) -> tuple[v.Outcome, list[_Piece], list[dns.rrset.RRset]]:
        if res.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            return v.Outcome(Security.INDETERMINATE), [], res.answer
        pairs = _pairs(res.answer)
        pieces: list[_Piece] = []
        by_index: dict[int, _Piece] = {}
        answer: list[dns.rrset.RRset] = []
        for i, (rrset, sigs) in enumerate(pairs):
            source = _dname_source(rrset, pairs[:i]) if rrset.rdtype == T.CNAME else None
            if source is not None and sigs is None:
                piece = by_index[source]
                piece = _Piece(piece.outcome, None, piece.cached, piece.chain)
            else:
                piece = await self._positive(rrset, sigs, res.authority, ctx)
            by_index[i] = piece
            pieces.append(piece)
            ttl = piece.ttl
            if ttl is not None and ttl < rrset.ttl:
                answer.append(with_ttl(rrset, ttl))
                if sigs is not None:
                    answer.append(with_ttl(sigs, ttl))
            else:
                answer.extend([rrset] if sigs is None else [rrset, sigs])
        end, complete = _chain_end(request.qname, request.qtype, pairs)
        if res.rcode == dns.rcode.NXDOMAIN or not complete:
            pieces.append(
                await self._negative(end, request.qtype, res.rcode, res.authority, ctx)
            )
        if not pieces:
            return v.Outcome(Security.INDETERMINATE), [], answer
        weakest = min(pieces, key=lambda p: _WEAKNESS[p.outcome.security])
        verdict = weakest.outcome
        if verdict.security is Security.INSECURE and verdict.ede is None:
            noted = next((p.outcome for p in pieces if p.outcome.ede is not None
                          and p.outcome.security is Security.INSECURE), None)
            verdict = noted or verdict
        return verdict, pieces, answer

    def _forget(self, res: Resolution, pieces: Sequence[_Piece] | None = None,
                request: Request | None = None) -> list[tuple[CachedRRset, v.Outcome | None]]:
        """Drop the answer's RRsets (only the bogus ones when ``pieces`` is given) and a
        bogus denial at the chain's end from the cache, so that they are fetched again.
        Returns what was dropped (with its reason), for :meth:`_restore`."""
        mono = self.clock.monotonic()
        dropped: list[tuple[CachedRRset, v.Outcome | None]] = []
        pairs = _pairs(res.answer)
        for i, (rrset, _) in enumerate(pairs):
            if pieces is not None and i < len(pieces) and not pieces[i].outcome.bogus:
                continue
            hit = self.cache.rrsets.get(rrset.name, rrset.rdtype, mono)
            if hit is not None:
                dropped.append((hit, self._reasons.get((rrset.name, rrset.rdtype))))
            self.cache.rrsets.pop(rrset.name, rrset.rdtype)
            self._reasons.pop((rrset.name, rrset.rdtype))
        if request is not None and pieces is not None and len(pieces) > len(pairs):
            end, _ = _chain_end(request.qname, request.qtype, pairs)
            self.cache.negative.pop(end, request.qtype)
        return dropped

    def _restore(self, dropped: Sequence[tuple[CachedRRset, v.Outcome | None]]) -> None:
        mono = self.clock.monotonic()
        for hit, reason in dropped:
            self.cache.rrsets.put(hit.rrset, hit.rank, mono, security=hit.security,
                                  sigs=hit.sigs)
            if reason is not None:
                self._reasons.put((hit.rrset.name, hit.rrset.rdtype), reason)

    # -- positive data ---------------------------------------------------------------------------

    async def _positive(
        self,
        rrset: dns.rrset.RRset,
        sigs: dns.rrset.RRset | None,
        authority: Sequence[dns.rrset.RRset],
        ctx: _Ctx,
    ) -> _Piece:
        mono = self.clock.monotonic()
        hit = self.cache.rrsets.get(rrset.name, rrset.rdtype, mono)
        if (
            hit is not None
            and hit.security is not Security.INDETERMINATE
            and set(hit.rrset) == set(rrset)
        ):
            self.stats["cached_verdicts"] += 1
            known = self._reasons.get((rrset.name, rrset.rdtype))
            if known is not None and known.security is hit.security:
                return _Piece(known, cached=True)
            if hit.security is Security.BOGUS:
                return _Piece(v.bogus(v.Ede.DNSSEC_BOGUS, f"{rrset.name} cached as bogus"),
                              cached=True)
            return _Piece(v.Outcome(hit.security), cached=True)
        outcome, ttl, chain = await self._check_positive(rrset, sigs, authority, ctx)
        self._remember(rrset, sigs, hit, outcome, ttl)
        return _Piece(outcome, ttl, chain=chain)

    async def _check_positive(
        self,
        rrset: dns.rrset.RRset,
        sigs: dns.rrset.RRset | None,
        authority: Sequence[dns.rrset.RRset],
        ctx: _Ctx,
    ) -> tuple[v.Outcome, int | None, bool]:
        """The RRset's verdict, its capped TTL when secure, and whether the verdict is the
        chain of trust's (the zone's keys) rather than the RRset's own."""
        owner = rrset.name
        what = f"{owner} {_type(rrset.rdtype)}"
        if self.anchors.is_negative(owner):
            return v.insecure(f"{owner} is under a negative trust anchor"), None, False
        signer = v.signer_of(sigs)
        is_ds = rrset.rdtype == T.DS and owner != dns.name.root
        if signer is not None:
            if not owner.is_subdomain(signer) or (is_ds and signer == owner):
                return v.bogus(v.Ede.DNSSEC_BOGUS, f"{what} signed by {signer}"), None, False
            target = signer
        else:
            target = owner.parent() if is_ds else owner
        entry = await self._keys_for(target, ctx)
        if entry.security is not Security.SECURE:
            return entry.outcome, None, True
        assert entry.keys is not None
        if signer is None:
            return v.bogus(v.Ede.RRSIGS_MISSING,
                           f"no RRSIGs over {what} in the signed zone {entry.zone}"), None, False
        if entry.zone != signer:
            return v.bogus(v.Ede.DNSKEY_MISSING,
                           f"{what} signed by {signer}, which has no secure keys"), None, False
        now = self.clock.now()
        check = self._verify(rrset, sigs, entry.keys, entry.zone, now)
        if not check.outcome.secure:
            return check.outcome, None, False
        if check.wildcard is not None:
            verified, bad = self._verified(authority, entry, now)
            proofs = [r for r, _, _ in verified]
            out = v.prove_wildcard_answer(owner, check.wildcard, entry.zone, proofs, self.limits)
            if not out.secure:
                return bad or out, None, False
            self._learn(entry.zone, verified,
                        wildcard=(rrset, sigs, check.wildcard, check.ttl))
        return check.outcome, check.ttl, False

    def _remember(
        self,
        rrset: dns.rrset.RRset,
        sigs: dns.rrset.RRset | None,
        hit: CachedRRset | None,
        outcome: v.Outcome,
        ttl: int | None,
    ) -> None:
        """Keep the verdict beside the cached RRset (only RRsets the recursor cached)."""
        if hit is None or outcome.security is Security.INDETERMINATE:
            return
        if set(hit.rrset) != set(rrset):
            return
        mono = self.clock.monotonic()
        rank = hit.rank
        keep = rrset.ttl if ttl is None else min(rrset.ttl, ttl)
        if outcome.security is Security.SECURE:
            rank = Rank.VALIDATED
        elif outcome.security is Security.BOGUS:
            keep = min(keep, self.config.bogus_ttl)
        if outcome.ede is not None:
            self._reasons.put((rrset.name, rrset.rdtype), outcome)
        self.cache.rrsets.put(
            with_ttl(rrset, keep),
            rank,
            mono,
            security=outcome.security,
            sigs=None if sigs is None else with_ttl(sigs, keep),
        )

    # -- denial of existence -------------------------------------------------------------------

    async def _negative(
        self,
        name: Name,
        qtype: int,
        rcode: int,
        authority: Sequence[dns.rrset.RRset],
        ctx: _Ctx,
    ) -> _Piece:
        if self.anchors.is_negative(name):
            return _Piece(v.insecure(f"{name} is under a negative trust anchor"))
        pairs = _pairs(authority)
        soa = next(((r, s) for r, s in pairs if r.rdtype == T.SOA), None)
        denials = [(r, s) for r, s in pairs if r.rdtype in (T.NSEC, T.NSEC3)]
        if soa is not None:
            signer = v.signer_of(soa[1])
            target = soa[0].name if signer is None else signer
        else:
            signer = next((v.signer_of(s) for _, s in denials if s is not None), None)
            target = name if signer is None else signer
        if not name.is_subdomain(target):
            return _Piece(v.bogus(v.Ede.DNSSEC_BOGUS,
                                  f"the denial for {name} comes from {target}"))
        entry = await self._keys_for(target, ctx)
        if entry.security is not Security.SECURE:
            return _Piece(entry.outcome, chain=True)
        assert entry.keys is not None
        if signer is not None and entry.zone != signer:
            return _Piece(v.bogus(v.Ede.DNSKEY_MISSING,
                                  f"denial signed by {signer}, which has no secure keys"))
        now = self.clock.now()
        # Without an SOA the signed NSEC/NSEC3 records still prove the denial (Unbound and
        # Knot Resolver do not require it); an SOA that is there must verify.
        soa_ttl: int | None = None
        if soa is not None:
            check = self._verify(soa[0], soa[1], entry.keys, entry.zone, now)
            if not check.outcome.secure:
                return _Piece(check.outcome)
            soa_ttl = check.ttl
        verified, bad = self._verified(authority, entry, now)
        proofs = [r for r, _, _ in verified]
        fixed: int | None = None
        if rcode == dns.rcode.NXDOMAIN:
            out = v.prove_nxdomain(name, entry.zone, proofs, self.limits)
            if not out.secure:
                # An NXDOMAIN whose signed denial proves NODATA instead (the name exists,
                # e.g. as an empty non-terminal): Unbound is lenient with the rcode and
                # answers NOERROR, secure (validator.c, validate_nameerror_response).
                nodata = v.prove_nodata(name, qtype, entry.zone, proofs, self.limits)
                if nodata.secure:
                    out, fixed = nodata, dns.rcode.NOERROR
        else:
            out = v.prove_nodata(name, qtype, entry.zone, proofs, self.limits)
        if out.secure and soa is not None and soa[0].name == entry.zone:
            self._learn(entry.zone, verified, soa=(soa[0], soa[1], soa_ttl))
        return _Piece(bad if out.bogus and bad is not None else out, rcode=fixed)

    def _proofs(
        self, authority: Sequence[dns.rrset.RRset], entry: KeyEntry, now: float
    ) -> tuple[list[dns.rrset.RRset], v.Outcome | None]:
        verified, bad = self._verified(authority, entry, now)
        return [r for r, _, _ in verified], bad

    def _verified(
        self, authority: Sequence[dns.rrset.RRset], entry: KeyEntry, now: float
    ) -> tuple[list[tuple[dns.rrset.RRset, dns.rrset.RRset | None, int | None]],
               v.Outcome | None]:
        """The NSEC/NSEC3 RRsets of ``entry``'s zone in ``authority`` that verify, and the
        failure of the first that does not (if any).

        A record that does not verify is left out of the proof, not fatal by itself: the
        proof is built from verified records only, so an extra bad record cannot make it
        succeed, and a good proof is not spoilt by a bad record it does not need (Unbound
        likewise accepts a DS denial as soon as one verified NSEC proves it).  When the
        proof fails, the caller reports the bad record's failure, which says more."""
        assert entry.keys is not None
        out: list[tuple[dns.rrset.RRset, dns.rrset.RRset | None, int | None]] = []
        bad: v.Outcome | None = None
        for rrset, sigs in _pairs(authority):
            if rrset.rdtype not in (T.NSEC, T.NSEC3) or not rrset.name.is_subdomain(entry.zone):
                continue
            signer = v.signer_of(sigs)
            if signer is not None and signer != entry.zone:
                continue  # another zone's proof (an earlier step of a CNAME chain)
            check = self._verify(rrset, sigs, entry.keys, entry.zone, now)
            if not check.outcome.secure:
                bad = bad or check.outcome
                continue
            out.append((rrset, sigs, check.ttl))
        return out, bad

    # -- aggressive use of validated NSEC records (RFC 8198) ------------------------------------

    def _learn(
        self,
        zone: Name,
        verified: Sequence[tuple[dns.rrset.RRset, dns.rrset.RRset | None, int | None]],
        *,
        soa: tuple[dns.rrset.RRset, dns.rrset.RRset | None, int | None] | None = None,
        wildcard: tuple[dns.rrset.RRset, dns.rrset.RRset | None, Name, int | None] | None = None,
    ) -> None:
        """Keep the secure NSEC records of ``zone`` (a proof that has just validated) for
        aggressive use, with the zone's SOA of a denial (each NSEC then lives no longer than
        the SOA's negative TTL, RFC 8198 §5.4 / RFC 9077) and a wildcard RRset it expanded."""
        mono = self.clock.monotonic()
        store = self.cache.nsec
        cap = MAX_TTL_S
        if soa is not None:
            rrset, sigs, ttl = soa
            minimum = _soa_minimum(rrset)
            keep = min(rrset.ttl, ttl if ttl is not None else rrset.ttl, MAX_TTL_S)
            cap = min(keep, minimum)
            store.put_soa(zone, rrset, sigs, mono + keep)
        for rrset, sigs, ttl in verified:
            if rrset.rdtype not in (T.NSEC, T.NSEC3) or v.signer_of(sigs) != zone:
                continue
            keep = min(rrset.ttl, ttl if ttl is not None else rrset.ttl, cap)
            if keep <= 0:
                continue
            if rrset.rdtype == T.NSEC:
                store.put_nsec(zone, rrset, sigs, mono + keep)
                continue
            params = v.nsec3_params(rrset, zone)
            if params is not None:
                store.put_nsec3(zone, rrset, sigs, mono + keep, params)
        if wildcard is not None:
            rrset, sigs, source, ttl = wildcard
            wild = dns.name.Name((b"*",) + source.labels)
            keep = min(rrset.ttl, ttl if ttl is not None else rrset.ttl, MAX_TTL_S)
            if keep > 0 and sigs is not None:
                data = dns.rrset.RRset(wild, rrset.rdclass, rrset.rdtype)
                data.update(rrset)
                data.ttl = keep
                wsigs = dns.rrset.RRset(wild, sigs.rdclass, sigs.rdtype, sigs.covers)
                wsigs.update(sigs)
                wsigs.ttl = keep
                store.put_wildcard(zone, data, wsigs, mono + keep)

    async def _follow(self, synth: ValidatedResolution, request: Request, exchanger: Exchanger,
                      depth: int) -> ValidatedResolution:
        """A CNAME synthesised from a wildcard leads on: its target is resolved (and
        validated) as the rest of the answer, which is as secure as its weakest part."""
        cname = next((r for r in synth.answer if r.rdtype == T.CNAME), None)
        if cname is None or request.qtype == T.CNAME:
            return synth
        if depth >= MAX_SYNTH_CHAIN:
            return ValidatedResolution(dns.rcode.SERVFAIL, [], [], 0, "CNAME chain too long")
        target = cname[0].target
        rest = await self._resolve(dataclasses.replace(request, qname=target), exchanger,
                                   depth + 1)
        if rest.rcode == dns.rcode.SERVFAIL:
            return rest
        security = min(synth.security, rest.security, key=lambda s: _WEAKNESS[s])
        return ValidatedResolution(
            rest.rcode, synth.answer + [r for r in rest.answer if r not in synth.answer],
            synth.authority + [r for r in rest.authority if r not in synth.authority],
            rest.upstream_queries, rest.reason or synth.reason, security, rest.ede)

    def _aggressive(self, request: Request) -> ValidatedResolution | None:
        """The answer the cached validated NSEC records prove for ``request`` without asking
        anyone (RFC 8198), or None.  Only from a zone whose keys are known secure, only when
        that zone is authoritative for the name (no zone cut known below it, down to the
        name), and never when the cache holds the name's data or denial already."""
        qname, qtype = request.qname, request.qtype
        if qtype in aggressive.NEVER or self.anchors.is_negative(qname):
            return None
        # A DS is the parent's: the zone above the name (which may itself be a cut) denies it.
        if qtype == T.DS and qname == dns.name.root:
            return None
        below = qname.parent() if qtype == T.DS else qname
        store = self.cache.nsec
        zone = store.zone_for(below)
        if zone is None:
            return None
        mono = self.clock.monotonic()
        entry = self._key_entry(zone, mono)
        if entry is None or entry.security is not Security.SECURE:
            return None
        n = below
        while n != zone:
            # A cut below the zone (known keys or NS records): the zone is not authoritative.
            if self._key_entry(n, mono) is not None or self.cache.rrsets.get(n, T.NS, mono):
                return None
            n = n.parent()
        rrsets = self.cache.rrsets
        if (rrsets.get(qname, qtype, mono) or rrsets.get(qname, T.CNAME, mono)
                or self.cache.negative.get(qname, qtype, mono)):
            return None  # the ordinary cache answers it

        def nsec(name: Name) -> aggressive.Proof | None:
            hit = store.at_or_before(zone, name, mono)
            return None if hit is None else aggressive.Proof(hit.rrset, hit.sigs, hit.ttl(mono))

        def wild(name: Name, rdtype: int) -> aggressive.Proof | None:
            hit = store.wildcard(zone, name, rdtype, mono)
            return None if hit is None else aggressive.Proof(hit.rrset, hit.sigs, hit.ttl(mono))

        synth = aggressive.synthesise(qname, qtype, zone, nsec, wild)
        params = store.nsec3_params(zone)
        if synth is None and params is not None \
                and params[1] <= self.limits.max_iterations:

            def nsec3(name: Name) -> aggressive.Proof | None:
                hit = store.at_or_before(zone, name, mono) or store.last(zone, mono)
                if hit is None or hit.rrset.rdtype != T.NSEC3:
                    return None
                return aggressive.Proof(hit.rrset, hit.sigs, hit.ttl(mono))

            synth = aggressive.synthesise_nsec3(qname, qtype, zone, params, nsec3, wild,
                                                self.limits)
        if synth is None:
            return None
        ttl = synth.ttl
        answer: list[dns.rrset.RRset] = []
        authority: list[dns.rrset.RRset] = []
        if synth.answer is not None:
            data = dns.rrset.RRset(qname, synth.answer.rrset.rdclass, synth.answer.rrset.rdtype)
            data.update(synth.answer.rrset)
            data.ttl = ttl
            answer.append(data)
            if synth.answer.sigs is not None:
                sigs = dns.rrset.RRset(qname, synth.answer.sigs.rdclass, T.RRSIG,
                                       synth.answer.sigs.covers)
                sigs.update(synth.answer.sigs)
                sigs.ttl = ttl
                answer.append(sigs)
        else:
            soa = store.soa(zone, mono)
            if soa is None:
                return None  # a denial needs the zone's SOA
            minimum = _soa_minimum(soa.rrset)
            ttl = min(ttl, soa.ttl(mono), minimum)
            authority.append(with_ttl(soa.rrset, ttl))
            if soa.sigs is not None:
                authority.append(with_ttl(soa.sigs, ttl))
        if ttl <= 0:
            return None
        for p in synth.proofs:
            authority.append(with_ttl(p.rrset, ttl))
            if p.sigs is not None:
                authority.append(with_ttl(p.sigs, ttl))
        self.stats["aggressive"] += 1
        return ValidatedResolution(synth.rcode, answer, authority, 0,
                                   f"aggressive NSEC: {synth.why}", Security.SECURE, [])

    # -- the chain of trust ----------------------------------------------------------------------

    async def _keys_for(self, target: Name, ctx: _Ctx) -> KeyEntry:
        """The validation state of the zone ``target`` is in (or is the apex of)."""
        anchor = self.anchors.closest(target)
        if anchor is None:
            return KeyEntry(target, Security.INDETERMINATE, why=f"no trust anchor above {target}")
        if self.anchors.is_negative(target):
            return KeyEntry(target, Security.INSECURE, why=f"{target}: negative trust anchor")
        mono = self.clock.monotonic()
        entry: KeyEntry | None = None
        n = target
        while True:
            entry = self._key_entry(n, mono)
            if entry is not None or n == anchor:
                break
            n = n.parent()
        if entry is None:
            entry = await self._prime(anchor, ctx)
        if entry.security is not Security.SECURE:
            return entry
        return await self._descend(entry, target, ctx)

    def _key_entry(self, zone: Name, mono: float) -> KeyEntry | None:
        entry = self._keys.get(zone)
        if entry is None:
            return None
        if mono >= entry.expires:
            self._keys.pop(zone)
            return None
        return entry

    def _store(self, entry: KeyEntry) -> KeyEntry:
        self._keys.put(entry.zone, entry)
        return entry

    def _key_set_entry(self, zone: Name, check: v.KeyCheck, cap: int | None = None) -> KeyEntry:
        """The key entry of a DNSKEY RRset check: bogus, unless harden-dnssec-stripped is
        off, which makes a zone whose keys are missing or fail insecure."""
        if check.outcome.bogus and not self.config.harden_dnssec_stripped:
            check = v.KeyCheck(v.insecure(f"{check.outcome.why} (harden-dnssec-stripped off)",
                                          check.outcome.ede))
        return self._entry(zone, check, cap)

    def _entry(self, zone: Name, check: v.KeyCheck, cap: int | None = None) -> KeyEntry:
        """A key entry from a DNSKEY check, stored for the TTL the verdict deserves."""
        mono = self.clock.monotonic()
        out = check.outcome
        if out.secure:
            assert check.keys is not None
            ttl = min(check.ttl or 0, cap if cap is not None else MAX_TTL_S, MAX_TTL_S)
            return self._store(KeyEntry(zone, Security.SECURE, check.keys, mono + ttl))
        if out.bogus:
            return self._store(KeyEntry(zone, Security.BOGUS, None, mono + self.config.bogus_ttl,
                                        out.ede, out.why))
        ttl = min(cap if cap is not None else MAX_TTL_S, MAX_TTL_S)
        return self._store(KeyEntry(zone, out.security, None, mono + ttl, out.ede, out.why))

    async def _fetch(self, name: Name, rdtype: int, ctx: _Ctx,
                     avoid: frozenset[str] = frozenset()) -> Resolution | None:
        if ctx.fetches >= self.config.max_fetches:
            return None
        ctx.fetches += 1
        self.stats[f"fetch_{_type(rdtype)}"] += 1
        res = await self.inner.resolve(Request(name, rdtype, do=True), ctx.exchanger, avoid)
        ctx.upstream += res.upstream_queries
        return res

    async def _fetch_keys(
        self, zone: Name, ctx: _Ctx, check: Callable[[Resolution], v.KeyCheck]
    ) -> tuple[Resolution | None, v.KeyCheck | None]:
        """``zone``'s DNSKEY RRset and its check.  A set fetched now that fails on its own
        (not for want of an answer) is fetched again from the zone's other servers, up to
        :data:`MAX_RESTARTS` times (Unbound blacklists the source of a bad key set)."""
        res = await self._fetch(zone, T.DNSKEY, ctx)
        if res is None:
            return None, None
        result = check(res)
        avoid: frozenset[str] = frozenset()
        for _ in range(MAX_RESTARTS):
            if not (result.outcome.bogus and res.rcode == dns.rcode.NOERROR):
                break
            if not res.origins and res.upstream_queries > 0:
                break  # (from the cache, it is simply fetched afresh)
            avoid |= res.origins
            self.stats["dnskey_restarts"] += 1
            self.cache.rrsets.pop(zone, T.DNSKEY)
            retry = await self._fetch(zone, T.DNSKEY, ctx, avoid)
            if retry is None or retry.rcode == dns.rcode.SERVFAIL:
                break  # nobody else to ask: the first verdict stands
            res, result = retry, check(retry)
        return res, result

    async def _prime(self, anchor: Name, ctx: _Ctx) -> KeyEntry:
        """The anchored zone's DNSKEY RRset, checked against the trust anchors."""

        def against_anchor(res: Resolution) -> v.KeyCheck:
            keys, sigs = _find(res, anchor, T.DNSKEY)
            if keys is None and res.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                return v.KeyCheck(v.bogus(v.Ede.DNSKEY_MISSING,
                                          f"cannot fetch DNSKEY {anchor}: {res.reason}"))
            return v.verify_dnskeys(
                anchor, keys, sigs, self.clock.now(),
                ds=self.anchors.ds_for(anchor), anchor_keys=self.anchors.keys_for(anchor),
                unchecked=self.config.unchecked_algorithms,
                ignore_dates=self.config.ignore_dates,
            )

        res, check = await self._fetch_keys(anchor, ctx, against_anchor)
        if res is None or check is None:
            return KeyEntry(anchor, Security.BOGUS, ede=v.Ede.DNSSEC_BOGUS,
                            why="validation fetch budget spent")
        keys, sigs = _find(res, anchor, T.DNSKEY)
        entry = self._key_set_entry(anchor, check)
        if entry.security is Security.SECURE and keys is not None:
            self._secure_rrset(keys, sigs, check.ttl)
        return entry

    async def _dnskeys(self, zone: Name, ds: dns.rrset.RRset, cap: int | None,
                       ctx: _Ctx) -> KeyEntry:
        """``zone``'s DNSKEY RRset, checked against its validated DS RRset."""

        def against_ds(res: Resolution) -> v.KeyCheck:
            keys, sigs = _find(res, zone, T.DNSKEY)
            if keys is None and res.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                return v.KeyCheck(v.bogus(v.Ede.DNSKEY_MISSING,
                                          f"cannot fetch DNSKEY {zone}: {res.reason}"))
            return v.verify_dnskeys(zone, keys, sigs, self.clock.now(),
                                    ds=[rd for rd in ds if isinstance(rd, v.DS)],
                                    unchecked=self.config.unchecked_algorithms,
                                    ignore_dates=self.config.ignore_dates)

        res, check = await self._fetch_keys(zone, ctx, against_ds)
        if res is None or check is None:
            return KeyEntry(zone, Security.BOGUS, ede=v.Ede.DNSSEC_BOGUS,
                            why="validation fetch budget spent")
        keys, sigs = _find(res, zone, T.DNSKEY)
        entry = self._key_set_entry(zone, check, cap)
        if entry.security is Security.SECURE and keys is not None:
            self._secure_rrset(keys, sigs, check.ttl)
        return entry

    async def _descend(self, entry: KeyEntry, target: Name, ctx: _Ctx) -> KeyEntry:
        """Walk from the secure ``entry`` down to ``target``, one label at a time."""
        for depth in range(len(entry.zone) + 1, len(target) + 1):
            child = target.split(depth)[1]
            if self.anchors.is_negative(child):
                return KeyEntry(child, Security.INSECURE, why=f"{child}: negative trust anchor")
            mono = self.clock.monotonic()
            known = self._key_entry(child, mono)
            if known is not None:
                entry = known
                if known.security is not Security.SECURE:
                    return known
                continue
            cut = self._cuts.get(child)
            if cut is not None and mono < cut[1]:
                step: KeyEntry | v.DsProof = cut[0]
            else:
                step = await self._probe(entry, child, ctx)
            if isinstance(step, KeyEntry):
                entry = step
                if step.security is not Security.SECURE:
                    return step
            elif step is v.DsProof.NAME_ABSENT:
                return entry  # nothing exists here: no cut below either
        return entry

    async def _probe(self, parent: KeyEntry, child: Name, ctx: _Ctx) -> KeyEntry | v.DsProof:
        """Is ``child`` a zone cut below the secure ``parent``, and if so how secure is it?"""
        assert parent.keys is not None
        res = self._referral_denial(child) or await self._fetch(child, T.DS, ctx)
        avoid: frozenset[str] = frozenset()
        for _ in range(MAX_RESTARTS):
            if res is None or await self._ds_data_ok(parent, child, res):
                break
            if not res.origins and res.upstream_queries > 0:
                break
            # A DS RRset or denial that fails on its own: ask the parent's other servers
            # (Unbound blacklists the source and restarts); nobody left, the verdict stands.
            # One that came from the cache (a referral's DS) is simply fetched afresh.
            avoid |= res.origins
            self.stats["ds_restarts"] += 1
            self.cache.rrsets.pop(child, T.DS)
            self.cache.negative.pop(child, T.DS)
            retry = await self._fetch(child, T.DS, ctx, avoid)
            if retry is None or retry.rcode == dns.rcode.SERVFAIL:
                break
            res = retry
        if res is None:
            return KeyEntry(child, Security.BOGUS, ede=v.Ede.DNSSEC_BOGUS,
                            why="validation fetch budget spent")
        now = self.clock.now()
        mono = self.clock.monotonic()
        ds, ds_sigs = _find(res, child, T.DS)
        if res.rcode == dns.rcode.NOERROR and ds is not None:
            check = self._verify(ds, ds_sigs, parent.keys, parent.zone, now)
            if not check.outcome.secure:
                return self._entry(child, v.KeyCheck(check.outcome))
            self._secure_rrset(ds, ds_sigs, check.ttl)
            _, unusable = v.usable_ds(rd for rd in ds if isinstance(rd, v.DS))
            if unusable is not None:
                return self._entry(child, v.KeyCheck(unusable), check.ttl)
            return await self._dnskeys(child, ds, check.ttl, ctx)
        cname, cname_sigs = _find(res, child, T.CNAME)
        if res.rcode == dns.rcode.NOERROR and cname is not None:
            check = self._verify(cname, cname_sigs, parent.keys, parent.zone, now)
            if not check.outcome.secure:
                return self._entry(child, v.KeyCheck(check.outcome))
            self._cuts.put(child, (v.DsProof.NOT_A_CUT, mono + (check.ttl or 0)))
            return v.DsProof.NOT_A_CUT
        if res.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            return self._entry(child, v.KeyCheck(v.bogus(
                v.Ede.DNSSEC_BOGUS, f"cannot fetch DS {child}: {res.reason or 'SERVFAIL'}")))
        denial = await self._negative_for_ds(parent, child, res, now)
        if isinstance(denial, v.Outcome):
            return self._entry(child, v.KeyCheck(denial))
        kind, out, ttl = denial
        if kind in (v.DsProof.INSECURE_DELEGATION, v.DsProof.OPT_OUT) or kind is None:
            return self._entry(child, v.KeyCheck(
                v.Outcome(Security.INSECURE, out.ede, out.why)), ttl)
        self._cuts.put(child, (kind, mono + ttl))
        return kind

    def _referral_denial(self, child: Name) -> Resolution | None:
        """The NSEC/NSEC3 records of a referral to ``child`` that had no DS, as a DS answer
        from the cache (checked like any other; a failing one is dropped and fetched)."""
        neg = self.cache.negative.get(child, T.DS, self.clock.monotonic())
        if neg is None or neg.soa is not None or neg.kind != "nodata":
            return None
        self.stats["ds_from_referral"] += 1
        return Resolution(dns.rcode.NOERROR, [], list(neg.proofs))

    async def _ds_data_ok(self, parent: KeyEntry, child: Name, res: Resolution) -> bool:
        """Whether the DS answer (a DS RRset, a CNAME, a denial) is not bogus on its own."""
        assert parent.keys is not None
        if res.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            return True  # a failure to fetch, not bad data
        now = self.clock.now()
        for rdtype in (T.DS, T.CNAME):
            rrset, sigs = _find(res, child, rdtype)
            if rrset is not None and res.rcode == dns.rcode.NOERROR:
                check = self._verify(rrset, sigs, parent.keys, parent.zone, now)
                return not check.outcome.bogus
        return not isinstance(await self._negative_for_ds(parent, child, res, now), v.Outcome)

    async def _negative_for_ds(
        self, parent: KeyEntry, child: Name, res: Resolution, now: float
    ) -> tuple[v.DsProof | None, v.Outcome, int] | v.Outcome:
        """A DS denial from ``parent``'s zone, checked: what it says about a cut at ``child``
        (``None`` when NSEC3 iterations make it insecure), with its TTL; or why it is bogus."""
        assert parent.keys is not None
        pairs = _pairs(res.authority)
        soa = next(((r, s) for r, s in pairs if r.rdtype == T.SOA), None)
        # An SOA is not required: the signed NSEC/NSEC3 records prove the denial on their
        # own (a NODATA without SOA, as Unbound and Knot Resolver accept it); one that is
        # there must be the parent's and verify.
        if soa is not None:
            if soa[0].name != parent.zone:
                return v.bogus(v.Ede.DNSSEC_BOGUS,
                               f"DS {child} denied by {soa[0].name}, not by {parent.zone}")
            check = self._verify(soa[0], soa[1], parent.keys, parent.zone, now)
            if not check.outcome.secure:
                return check.outcome
        proofs, bad = self._proofs(res.authority, parent, now)
        kind, out = v.prove_no_ds(child, parent.zone, proofs, self.limits,
                                  nxdomain=res.rcode == dns.rcode.NXDOMAIN)
        if kind is None and out.security is not Security.INSECURE:
            return bad or out
        ttl = min([*([soa[0].ttl] if soa is not None else []), *(p.ttl for p in proofs)],
                  default=0)
        return kind, out, max(0, min(ttl, MAX_TTL_S))

    def _secure_rrset(self, rrset: dns.rrset.RRset, sigs: dns.rrset.RRset | None,
                      ttl: int | None) -> None:
        """Cache a validated DS or DNSKEY RRset as secure, so it is reused as it is."""
        keep = rrset.ttl if ttl is None else min(rrset.ttl, ttl)
        self.cache.rrsets.put(with_ttl(rrset, keep), Rank.VALIDATED, self.clock.monotonic(),
                              security=Security.SECURE,
                              sigs=None if sigs is None else with_ttl(sigs, keep))

    def flush_name(self, name: Name) -> None:
        """Forget the verdicts kept for RRsets at ``name`` (with the recursor's
        :meth:`~resolver.cache.dnscache.DnsCache.flush_name`: a fresh look at one name)."""
        for rdtype in FLUSH_TYPES:
            self._reasons.pop((name, rdtype))

    def clear(self) -> None:
        """Forget every zone's validation state (the caches are the recursor's to flush)."""
        self._keys.clear()
        self._cuts.clear()
        self._reasons.clear()


def _find(res: Resolution, name: Name, rdtype: int
          ) -> tuple[dns.rrset.RRset | None, dns.rrset.RRset | None]:
    for rrset, sigs in _pairs(res.answer):
        if rrset.name == name and rrset.rdtype == rdtype:
            return rrset, sigs
    return None, None


def _soa_minimum(soa: dns.rrset.RRset) -> int:
    return next((rd.minimum for rd in soa if isinstance(rd, dns.rdtypes.ANY.SOA.SOA)), 0)


def _type(rdtype: int) -> str:
    return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))


def _validated(res: Resolution, spent: int, security: Security,
               ede: list[tuple[int, str]]) -> ValidatedResolution:
    return ValidatedResolution(res.rcode, res.answer, res.authority, spent, res.reason,
                               security, ede, extra_authority=res.extra_authority,
                               extra_additional=res.extra_additional)
