"""What kind of response an authoritative server sent, after scrubbing (pure functions).

:func:`scrub` drops what a server for ``zone`` has no authority to tell us (Unbound-style):
authority and additional records outside the zone, and additional records that are not
addresses of a nameserver named in the response.  :func:`classify` then sorts the response
into answer, CNAME chain, NXDOMAIN, NODATA, referral or lame.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from resolver.recursor.private import PrivateAddresses

T = dns.rdatatype


class Kind(enum.Enum):
    ANSWER = "answer"
    CNAME = "cname"  # the chain leaves what this server answered: follow the target
    NXDOMAIN = "nxdomain"
    YXDOMAIN = "yxdomain"  # a DNAME whose substitution overflows (RFC 6672 §2.2)
    NODATA = "nodata"
    REFERRAL = "referral"
    LAME = "lame"


@dataclass
class Classified:
    kind: Kind
    chain: list[dns.rrset.RRset] = field(default_factory=list)  # CNAME/DNAME hops and final
    sigs: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = field(default_factory=dict)
    target: dns.name.Name | None = None  # the name the chain ends at
    soa: dns.rrset.RRset | None = None
    proofs: list[dns.rrset.RRset] = field(default_factory=list)  # NSEC/NSEC3 (+RRSIGs)
    cut: dns.name.Name | None = None  # referral: the child zone
    ns: dns.rrset.RRset | None = None
    ds: dns.rrset.RRset | None = None
    glue: list[dns.rrset.RRset] = field(default_factory=list)
    why: str = ""
    # recursion-lame: what the response would be from an authority (the last resort when
    # every server of the zone is recursion-lame, as Unbound then takes it)
    fallback: Classified | None = None


def in_zone(name: dns.name.Name, zone: dns.name.Name) -> bool:
    return name.is_subdomain(zone)


def scrub(
    response: dns.message.Message, zone: dns.name.Name, harden_glue: bool = True,
    promiscuous: bool = False, private: PrivateAddresses | None = None, max_ns: int = 20,
) -> bool:
    """Remove out-of-bailiwick authority and additional data, in place.

    With ``harden_glue`` off, addresses of the nameservers a response names are kept even
    outside ``zone`` (Unbound's ``harden-glue: no``, Knot Resolver's permissive mode).
    With ``promiscuous`` on, a response that is not a referral (it has an answer, an SOA
    in its authority section or an rcode other than NOERROR) loses the NS sets of its
    authority section and so their glue (Unbound's ``iter-scrub-promiscuous``): only a
    referral may say where a zone's servers are.  ``private``: addresses in its private
    ranges are removed from public names (Unbound's ``private-address``, DNS rebinding
    protection; :mod:`resolver.recursor.private`).  An NSEC RRset whose Next Domain Name
    lies outside ``zone`` goes from every section, with its RRSIGs: a zone's NSEC chain
    stays inside the zone (RFC 4034 §4.1.1, the last one points at the apex), and Unbound's
    scrubber removes such "overreaching" NSECs (iter_scrub.c sanitize_nsec_is_overreach).
    An NS RRset of more than ``max_ns`` records keeps its first ``max_ns`` (Unbound's
    iter-scrub-ns, 20 by default), and the glue of the names cut off goes with them.
    Returns whether an NS RRset outside the zone went: an upward or sideways referral, the
    mark of a lame server (for :func:`classify`'s ``referred_away``).
    """
    _place_signatures(response)
    if private:
        private.remove_from(response)
    referred_away = any(
        r.rdtype == T.NS and not in_zone(r.name, zone) for r in response.authority
    )
    response.authority = [r for r in response.authority if in_zone(r.name, zone)]
    _drop_overreaching_nsec(response, zone)
    _limit_ns_sets(response, max_ns)
    if promiscuous and not _referral_shaped(response):
        response.authority = [r for r in response.authority if T.NS not in (r.rdtype, r.covers)]
    targets: set[dns.name.Name] = set()
    for section in (response.answer, response.authority):
        for rrset in section:
            # the names whose addresses are additional data (RFC 1035 §3.3.9 and §3.3.11,
            # RFC 2782; Unbound's scrubber marks the same: mark_additional_rrset)
            if rrset.rdtype in (T.NS, T.SRV):
                targets.update(rd.target for rd in rrset)
            elif rrset.rdtype == T.MX:
                targets.update(rd.exchange for rd in rrset)
    response.additional = [
        r
        for r in response.additional
        if (r.rdtype in (T.A, T.AAAA) or (r.rdtype == T.RRSIG and r.covers in (T.A, T.AAAA)))
        and r.name in targets
        and (in_zone(r.name, zone) or not harden_glue)
    ]
    return referred_away


def _limit_ns_sets(response: dns.message.Message, limit: int) -> None:
    """Shorten NS RRsets over ``limit`` records to their first ``limit``, in place.

    Unbound's iter_scrub.c (shorten_rrset, iter-scrub-ns: "protects the internals of the
    resolver from overly large NS sets"); a signed NS RRset over the limit in the authority
    section of a response that is no referral goes whole, with its RRSIGs, so that the
    shortened (now bogus) set cannot spoil an otherwise good answer."""
    referral = _referral_shaped(response) and not response.flags & dns.flags.AA
    for section, authority in ((response.answer, False), (response.authority, True)):
        for r in [r for r in section if r.rdtype == T.NS and len(r) > limit]:
            sigs = [s for s in section if s.rdtype == T.RRSIG and s.covers == T.NS
                    and s.name == r.name]
            at = section.index(r)
            if authority and not referral and sigs:
                section[:] = [s for s in section if s is not r and s not in sigs]
                continue
            short = dns.rrset.RRset(r.name, r.rdclass, r.rdtype)
            short.update_ttl(r.ttl)
            for rd in list(r)[:limit]:
                short.add(rd)
            section[at] = short


def _drop_overreaching_nsec(response: dns.message.Message, zone: dns.name.Name) -> None:
    """Remove NSEC RRsets (and their RRSIGs) whose next name is outside ``zone``."""
    for section in (response.answer, response.authority, response.additional):
        bad = {r.name for r in section if r.rdtype == T.NSEC
               and any(not in_zone(rd.next, zone) for rd in r)}
        if bad:
            section[:] = [r for r in section if r.name not in bad
                          or T.NSEC not in (r.rdtype, r.covers)]


def _referral_shaped(response: dns.message.Message) -> bool:
    """NOERROR, no answer and no SOA: what a referral looks like."""
    return (
        response.rcode() == dns.rcode.NOERROR
        and not response.answer
        and not any(r.rdtype == T.SOA for r in response.authority)
    )


def _place_signatures(response: dns.message.Message) -> None:
    """Move each RRSIG RRset to the section of the RRset it covers, in place.

    A server may put signatures in the wrong section; Unbound's parser files an RRSIG with
    the RRset it covers wherever that is (msgparse.c: one RRset table per message), so the
    signature still counts.  RRSIGs whose RRset is nowhere stay where they are."""
    sections = (response.answer, response.authority, response.additional)
    home: dict[tuple[dns.name.Name, int], list[dns.rrset.RRset]] = {}
    for section in sections:
        for r in section:
            if r.rdtype != T.RRSIG:
                home.setdefault((r.name, r.rdtype), section)
    for section in sections:
        for r in [r for r in section if r.rdtype == T.RRSIG]:
            target = home.get((r.name, r.covers))
            if target is not None and target is not section:
                section.remove(r)
                target.append(r)


def _sig_index(section: list[dns.rrset.RRset]) -> dict[tuple[dns.name.Name, int], dns.rrset.RRset]:
    return {(r.name, r.covers): r for r in section if r.rdtype == T.RRSIG}


def follow_chain(
    answer: list[dns.rrset.RRset],
    qname: dns.name.Name,
    qtype: int,
    zone: dns.name.Name,
    max_hops: int,
    cut_chains: bool = False,
) -> tuple[list[dns.rrset.RRset], dns.name.Name, bool]:
    """Walk the CNAME/DNAME chain from ``qname`` inside one answer section.

    Returns the RRsets in chain order (ending with the final RRset when present), the name
    the chain ends at, and whether the final RRset (type ``qtype``) was found.  Records
    outside ``zone`` are not believed: the chain stops where it leaves the zone.  With
    ``cut_chains`` it stops after the first CNAME (or DNAME and its CNAME) even inside the
    zone: only the alias is necessarily authoritative in an answer for it, the target is
    asked again (RFC 2181 §5.4.1; Unbound's scrub_sanitize keeps only the query name's
    RRsets in the answer section, "remainders of CNAME chains are cut off and resolved by
    iterator").
    """
    by_key: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
    dnames: list[dns.rrset.RRset] = []
    signatures: dict[dns.name.Name, list[dns.rrset.RRset]] = {}  # for qtype RRSIG only
    for r in answer:
        if r.rdtype == T.RRSIG:
            if qtype == T.RRSIG:
                signatures.setdefault(r.name, []).append(r)
            continue
        by_key.setdefault((r.name, r.rdtype), r)
        if r.rdtype == T.DNAME and in_zone(r.name, zone):
            # A DNAME owned above the server's zone is out of its bailiwick (RFC 2181 §5.4.1):
            # not believed, so it redirects nothing (Unbound's scrubber removes it).
            dnames.append(r)
    chain: list[dns.rrset.RRset] = []
    name = qname
    seen = {name}
    for _ in range(max_hops + 1):
        if not in_zone(name, zone):
            return chain, name, False
        # A DNAME above the name rules it (RFC 6672): the DNAME, then the CNAME it implies
        # (synthesised here, whatever CNAME or data the server sent alongside for the name,
        # as Unbound's scrubber does).
        dname = next((d for d in dnames if name.is_subdomain(d.name) and name != d.name), None)
        final = by_key.get((name, qtype)) if dname is None else None
        if final is not None:
            chain.append(final)
            return chain, name, True
        if dname is None and qtype == T.ANY:
            # QTYPE * matches every type (RFC 1035 §3.2.3): all the name's RRsets are the
            # answer (a CNAME among them is not followed).
            found = [r for r in answer if r.name == name and r.rdtype != T.RRSIG]
            if found:
                chain.extend(found)
                return chain, name, True
        if dname is None and signatures.get(name):
            # qtype RRSIG: the answer is every signature the name has, one RRset per
            # covered type as dnspython groups them
            chain.extend(signatures[name])
            return chain, name, True
        if dname is not None:
            try:
                target = name.relativize(dname.name).derelativize(dname[0].target)
            except dns.name.NameTooLong:
                return chain, name, False
            synth = dns.rrset.from_text(name, dname.ttl, dname.rdclass, T.CNAME, target.to_text())
            chain.extend([dname, synth])
            if qtype == T.CNAME:
                # The synthesised CNAME is the answer to a CNAME question: the chain stops
                # here, as it does at a real CNAME (RFC 6672 §3.2, RFC 1034 §3.6.2).
                return chain, name, True
        elif qtype != T.CNAME and (name, T.CNAME) in by_key:
            cname = by_key[(name, T.CNAME)]
            chain.append(cname)
            target = cname[0].target
        else:
            return chain, name, False
        name = target
        if cut_chains:
            return chain, name, False
        if name in seen:
            return chain, name, False
        seen.add(name)
    return chain, name, False


def _overflowing_dname(
    answer: list[dns.rrset.RRset], name: dns.name.Name, zone: dns.name.Name
) -> dns.rrset.RRset | None:
    """The in-zone DNAME above ``name`` whose substitution makes a name too long, if any."""
    for r in answer:
        if r.rdtype != T.DNAME or not in_zone(r.name, zone) or not len(r) \
                or not name.is_subdomain(r.name) or name == r.name:
            continue
        try:
            name.relativize(r.name).derelativize(r[0].target)
        except dns.name.NameTooLong:
            return r
    return None


def _referral_in_answer(
    response: dns.message.Message, qname: dns.name.Name, qtype: int, zone: dns.name.Name,
    aa: bool,
) -> dns.rrset.RRset | None:
    """The NS RRset of a zone below ``zone`` that a non-authoritative answer to an NS or ANY
    question carries in its answer section (a parent's referral put there), if any."""
    if aa or qtype not in (T.NS, T.ANY):
        return None
    return next((r for r in response.answer
                 if r.rdtype == T.NS and r.name != zone and r.name.is_subdomain(zone)
                 and qname.is_subdomain(r.name)), None)


def _delegation_below(
    authority: list[dns.rrset.RRset], qname: dns.name.Name, zone: dns.name.Name
) -> dns.rrset.RRset | None:
    """The NS RRset of a zone strictly below ``zone`` and at or above ``qname`` in an
    authority section, if any."""
    return next((r for r in authority
                 if r.rdtype == T.NS and r.name != zone and r.name.is_subdomain(zone)
                 and qname.is_subdomain(r.name)), None)


def classify(
    response: dns.message.Message,
    qname: dns.name.Name,
    qtype: int,
    zone: dns.name.Name,
    max_hops: int = 12,
    referred_away: bool = False,
    *,
    recursion_desired: bool = False,
    cut_chains: bool = False,
    lame_answers: bool = True,
) -> Classified:
    """Sort a scrubbed response for (qname, qtype) from a server of ``zone``
    (``referred_away``: scrubbing took an upward or sideways referral out of it).

    Asked without RD (iterating), an answer, NXDOMAIN or NODATA that has RA set and AA
    clear comes from a recursive resolver, not from an authority for the zone: it is
    "recursion-lame" (RFC 4697 §2.3; Unbound's RESPONSE_TYPE_REC_LAME in iter_resptype.c)
    and its data is not used while the zone has other servers (``fallback`` keeps it for
    when it has none).  Referrals (never AA) are judged as usual.
    ``cut_chains``: see :func:`follow_chain`; a cut chain is followed (Kind.CNAME) even
    when an SOA is beside it, as Unbound's iter_resptype.c makes it RESPONSE_TYPE_CNAME.
    ``lame_answers`` false: only negative answers can be recursion-lame (Knot Resolver's
    rule, ``RecursorConfig.recursion_lame_answers``).
    """
    c = _classify(response, qname, qtype, zone, max_hops, referred_away, cut_chains,
                  recursion_desired)
    if (
        c.kind is Kind.NODATA
        and not response.answer and not response.authority and not response.additional
    ):
        # An entirely empty NOERROR (no SOA, no NS, nothing) is ambiguous: a lame or broken
        # server says the same.  Another server of the zone is asked first and the empty
        # NODATA is taken only when none is left (Unbound's iter_resptype.c: throwaway at
        # first, accepted later, EMPTY_NODATA_RETRY_COUNT).
        return Classified(Kind.LAME, why="an entirely empty answer (another server is "
                          "asked first)", fallback=c)
    if (
        not recursion_desired
        and c.kind in ((Kind.ANSWER, Kind.CNAME, Kind.NXDOMAIN, Kind.NODATA) if lame_answers
                       else (Kind.NXDOMAIN, Kind.NODATA))
        and response.flags & dns.flags.RA
        and not response.flags & dns.flags.AA
    ):
        return Classified(Kind.LAME, why="recursion-lame: RA without AA from a server of "
                          f"{zone}", fallback=c)
    return c


def _classify(
    response: dns.message.Message,
    qname: dns.name.Name,
    qtype: int,
    zone: dns.name.Name,
    max_hops: int,
    referred_away: bool,
    cut_chains: bool = False,
    recursion_desired: bool = False,
) -> Classified:
    rcode = response.rcode()
    aa = bool(response.flags & dns.flags.AA)
    sigs = _sig_index(response.answer) | _sig_index(response.authority)
    chain, end, final = follow_chain(response.answer, qname, qtype, zone, max_hops, cut_chains)
    if rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN) and not final \
            and _overflowing_dname(response.answer, end, zone) is not None:
        # RFC 6672 §2.2: that substitution is answered YXDOMAIN; a NOERROR (or NXDOMAIN)
        # reply with it is not used, another server is asked (Unbound's scrub_normalize:
        # synth_cname "should have been RCODE YXDOMAIN" fails the reply)
        return Classified(Kind.LAME, why=f"DNAME substitution of {end} too long, not YXDOMAIN")
    soa = next((r for r in response.authority if r.rdtype == T.SOA), None)
    proofs = [
        r
        for r in response.authority
        if r.rdtype in (T.NSEC, T.NSEC3)
        or (r.rdtype == T.RRSIG and r.covers in (T.NSEC, T.NSEC3, T.SOA))
    ]
    if rcode == dns.rcode.NXDOMAIN:
        if chain and not final and (cut_chains or not in_zone(end, zone)):
            # An alias with rcode NXDOMAIN: the rcode speaks of the chain's last name
            # (RFC 6604 §3), which this server is not authoritative for (or, cut, whose
            # records are not taken from it): the target is asked (Unbound's
            # response_type_from_server: "it could be a CNAME with NXDOMAIN rcode").
            return Classified(Kind.CNAME, chain, sigs, end)
        return Classified(Kind.NXDOMAIN, chain, sigs, end, soa, proofs)
    if rcode == dns.rcode.YXDOMAIN:
        overflow = _overflowing_dname(response.answer, end, zone)
        if overflow is not None:
            # RFC 6672 §2.2: the DNAME substitution would make a name longer than 255
            # octets; YXDOMAIN with the DNAME is the answer (Unbound passes it on too)
            return Classified(Kind.YXDOMAIN, [*chain, overflow], sigs, end)
    if rcode != dns.rcode.NOERROR:
        return Classified(Kind.LAME, why=f"rcode {dns.rcode.to_text(rcode)}")
    below = _referral_in_answer(response, qname, qtype, zone, aa)
    if below is not None:
        # An NS (or ANY) question for a child zone answered by the parent with the child's
        # NS RRset in the answer section but without AA: a referral "where the NS went to
        # AN section" (Unbound's iter_resptype.c), the child is asked (RFC 2181 §5.4.1)
        glue = [r for r in response.additional if r.rdtype in (T.A, T.AAAA)]
        return Classified(Kind.REFERRAL, [], sigs, qname, None, proofs, below.name, below,
                          None, glue)
    if final:
        below = None if aa or recursion_desired or len(chain) != 1 or soa is not None \
            else _delegation_below(response.authority, qname, zone)
        if below is not None:
            # A non-authoritative answer is only provisional: beside the delegation of a
            # zone below the one asked it is a referral, the child's answer is the one
            # taken (Unbound's iter_resptype.c; RFC 2181 §5.4.1).  Not when forwarding:
            # a forwarder's referral is its answer (Unbound turns it into ANSWER).  The
            # answer's addresses are glue too (Unbound's delegpt_from_message takes A and
            # AAAA from the answer and additional sections).
            glue = [r for r in (*response.answer, *response.additional)
                    if r.rdtype in (T.A, T.AAAA)]
            return Classified(Kind.REFERRAL, [], sigs, qname, None, proofs, below.name, below,
                              None, glue)
        return Classified(Kind.ANSWER, chain, sigs, end)
    if chain:
        # The chain ended without the final data: either it left the zone (follow it) or
        # it ends in NODATA inside the zone (SOA present).
        if soa is not None and in_zone(end, zone) and not cut_chains:
            return Classified(Kind.NODATA, chain, sigs, end, soa, proofs)
        return Classified(Kind.CNAME, chain, sigs, end)
    if any(r.name == qname and r.rdtype != T.RRSIG for r in response.answer):
        # Records for the name, none of the type asked and no CNAME: the server knows the
        # name and has no such data.  NODATA (without an SOA, so not cached as negative),
        # as Unbound and Knot Resolver take it after dropping the unexpected records.
        return Classified(Kind.NODATA, [], sigs, qname, soa, proofs)
    ns = next((r for r in response.authority if r.rdtype == T.NS), None)
    if soa is not None and (aa or ns is None):
        return Classified(Kind.NODATA, [], sigs, qname, soa, proofs)
    if ns is not None:
        if ns.name != zone and ns.name.is_subdomain(zone) and qname.is_subdomain(ns.name):
            ds = next(
                (r for r in response.authority if r.rdtype == T.DS and r.name == ns.name), None
            )
            glue = [r for r in response.additional if r.rdtype in (T.A, T.AAAA)]
            return Classified(Kind.REFERRAL, [], sigs, qname, None, proofs, ns.name, ns, ds, glue)
        if aa and ns.name == zone:
            return Classified(Kind.NODATA, [], sigs, qname, None, proofs)
        return Classified(Kind.LAME, why=f"referral to {ns.name} from a server of {zone}")
    if aa or not (response.flags & dns.flags.RA or referred_away):
        # An empty NOERROR is NODATA (RFC 2308 §2.2, type 3: no SOA, no NS) unless it has
        # the marks of a lame server: an upward or sideways referral, or RA without AA (a
        # recursive server with nothing cached for us: Unbound's response_type_from_server,
        # RESPONSE_TYPE_REC_LAME and RESPONSE_TYPE_LAME).
        return Classified(Kind.NODATA, [], sigs, qname, None, proofs)
    return Classified(Kind.LAME, why="empty non-authoritative answer (lame)")
