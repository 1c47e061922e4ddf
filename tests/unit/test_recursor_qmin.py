"""QNAME minimisation as Unbound does it (relaxed mode), over the MockTransport seam.

Each test asserts the answer and the exact upstream questions: a minimised query that gets
an error rcode stops minimisation at once (no retries of the same minimised name), timeouts
are retried at most three times, an NXDOMAIN to a minimised query is final only where DNSSEC
is expected, and long names follow Unbound's label schedule.
"""

from __future__ import annotations

import dataclasses

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import pytest

from resolver.conductor.core import MAX_MINIMISED_TIMEOUTS
from resolver.recursor.iterate import minimise_labels
from tests.unit.test_recursor import ROOT, TLD, make, reply, resolve

T = dns.rdatatype
N = dns.name.from_text

DS = "ex. 3600 DS 12345 13 2 " + "AB" * 32
SOA = "ex. 300 SOA ns.ex. host.ex. 1 7200 3600 1209600 300"


def world(
    *, minimised: str = "ok", signed: bool = False
) -> tuple[object, list[str]]:
    """Root refers ``ex.`` to TLD, which answers ``www.a.b.ex. A`` in full.  ``minimised``
    says how TLD treats a minimised name (a strict ancestor of www.a.b.ex.): "ok" (NODATA),
    "servfail", "refused", "timeout" or "nxdomain"."""

    def handler(query: dns.message.Message, address: str) -> dns.message.Message | None:
        q = query.question[0]
        name = q.name.to_text().lower()
        if address == ROOT:
            auth = ("ex. 3600 NS ns.ex.",) + ((DS,) if signed else ())
            return reply(query, aa=False, authority=auth, additional=("ns.ex. 3600 A " + TLD,))
        if name == "www.a.b.ex." and q.rdtype == T.A:
            return reply(query, answer=("www.a.b.ex. 300 A 127.100.0.7",))
        if minimised == "servfail":
            return reply(query, rcode=dns.rcode.SERVFAIL)
        if minimised == "refused":
            return reply(query, aa=False, rcode=dns.rcode.REFUSED)
        if minimised == "timeout":
            return None
        if minimised == "nxdomain":
            return reply(query, rcode=dns.rcode.NXDOMAIN, authority=(SOA,))
        return reply(query, authority=(SOA,))

    return handler, []


def asked(transport: object) -> list[tuple[str, str]]:
    return [(q, t) for _, q, t in transport.questions()]  # type: ignore[attr-defined]


async def test_minimised_names_are_asked_with_qtype_a_one_label_at_a_time() -> None:
    handler, _ = world()
    recursor, conductor, transport, _ = make(handler)  # type: ignore[arg-type]
    res = await resolve(recursor, conductor, "www.a.b.ex.")
    assert res.rcode == dns.rcode.NOERROR
    assert asked(transport) == [
        ("ex.", "A"), ("b.ex.", "A"), ("a.b.ex.", "A"), ("www.a.b.ex.", "A"),
    ]


async def test_minimised_names_can_be_asked_with_qtype_ns_and_remembered() -> None:
    handler, _ = world()
    recursor, conductor, transport, _ = make(handler)  # type: ignore[arg-type]
    recursor.config = dataclasses.replace(recursor.config, qmin_qtype=int(T.NS))
    res = await resolve(recursor, conductor, "www.a.b.ex.")
    assert [rd.address for r in res.answer for rd in r] == ["127.100.0.7"]
    assert asked(transport) == [
        ("ex.", "NS"), ("b.ex.", "NS"), ("a.b.ex.", "NS"), ("www.a.b.ex.", "A"),
    ]
    # the NODATA for a.b.ex. NS says "no cut there": a sibling skips the known labels
    await resolve(recursor, conductor, "mail.a.b.ex.")
    assert asked(transport)[4:] == [("mail.a.b.ex.", "A")]


async def test_knot_resolver_way_asks_the_full_name_after_a_minimised_nodata() -> None:
    # qmin_stop_on_answer (the Deckard dialect): the first minimised NODATA ends
    # minimisation, the full name comes next (Knot Resolver's NO_MINIMIZE)
    handler, _ = world()
    recursor, conductor, transport, _ = make(handler)  # type: ignore[arg-type]
    recursor.config = dataclasses.replace(recursor.config, qmin_qtype=int(T.NS),
                                          qmin_stop_on_answer=True)
    res = await resolve(recursor, conductor, "www.a.b.ex.")
    assert [rd.address for r in res.answer for rd in r] == ["127.100.0.7"]
    assert asked(transport) == [("ex.", "NS"), ("b.ex.", "NS"), ("www.a.b.ex.", "A")]


@pytest.mark.parametrize(("hide", "qtype", "expected"), [
    (False, "MX", [("ex.", "A"), ("b.ex.", "A"), ("a.b.ex.", "A"), ("www.a.b.ex.", "MX")]),
    (True, "MX", [("ex.", "A"), ("b.ex.", "A"), ("a.b.ex.", "A"), ("www.a.b.ex.", "A"),
                  ("www.a.b.ex.", "MX")]),
    # (A itself and DS are never hidden: nothing to hide, and DS lives at the parent)
    (True, "A", [("ex.", "A"), ("b.ex.", "A"), ("a.b.ex.", "A"), ("www.a.b.ex.", "A")]),
])
async def test_unbound_hides_the_qtype_at_the_full_name_when_asked(
    hide: bool, qtype: str, expected: list[tuple[str, str]]
) -> None:
    handler, _ = world()
    recursor, conductor, transport, _ = make(handler)  # type: ignore[arg-type]
    recursor.config = dataclasses.replace(recursor.config, qmin_hide_qtype=hide)
    await resolve(recursor, conductor, "www.a.b.ex.", qtype)
    assert asked(transport) == expected


@pytest.mark.parametrize("failure", ["servfail", "refused"])
async def test_error_rcode_to_a_minimised_query_stops_minimisation_at_once(
    failure: str,
) -> None:
    handler, _ = world(minimised=failure)
    recursor, conductor, transport, _ = make(handler)  # type: ignore[arg-type]
    res = await resolve(recursor, conductor, "www.a.b.ex.")
    assert res.rcode == dns.rcode.NOERROR
    assert [rd.address for r in res.answer for rd in r] == ["127.100.0.7"]
    # one minimised query, not the conductor's six retries; then the full name
    assert asked(transport) == [("ex.", "A"), ("b.ex.", "A"), ("www.a.b.ex.", "A")]


async def test_timeouts_of_a_minimised_query_are_retried_three_times_then_full_name() -> None:
    handler, _ = world(minimised="timeout")
    recursor, conductor, transport, _ = make(handler)  # type: ignore[arg-type]
    res = await resolve(recursor, conductor, "www.a.b.ex.")
    assert res.rcode == dns.rcode.NOERROR
    assert asked(transport) == (
        [("ex.", "A")] + [("b.ex.", "A")] * MAX_MINIMISED_TIMEOUTS + [("www.a.b.ex.", "A")]
    )


async def test_nxdomain_to_a_minimised_query_in_an_unsigned_zone_asks_the_full_name() -> None:
    handler, _ = world(minimised="nxdomain")
    recursor, conductor, transport, _ = make(handler)  # type: ignore[arg-type]
    res = await resolve(recursor, conductor, "www.a.b.ex.")
    assert res.rcode == dns.rcode.NOERROR
    assert asked(transport) == [("ex.", "A"), ("b.ex.", "A"), ("www.a.b.ex.", "A")]


async def test_nxdomain_to_a_minimised_query_where_dnssec_is_expected_is_final() -> None:
    # The referral carries a DS: Unbound (dnssec_expected) takes the NXDOMAIN as the answer
    # for everything below (RFC 8020) and asks nothing more.
    handler, _ = world(minimised="nxdomain", signed=True)
    recursor, conductor, transport, _ = make(handler)  # type: ignore[arg-type]
    res = await resolve(recursor, conductor, "www.a.b.ex.")
    assert res.rcode == dns.rcode.NXDOMAIN
    assert any(r.rdtype == T.SOA for r in res.authority)
    assert asked(transport) == [("ex.", "A"), ("b.ex.", "A")]
    # and the negative cache answers a name below it without asking
    before = len(asked(transport))
    again = await resolve(recursor, conductor, "other.b.ex.")
    assert again.rcode == dns.rcode.NXDOMAIN and len(asked(transport)) == before


def test_long_names_follow_unbounds_label_schedule() -> None:
    # A 16-label name (root included) under the root: Unbound reveals one label per step for
    # the first MINIMISE_ONE_LAB steps (and one more while the remainder allows), then two
    # at a time, and everything at the tenth step (worked by hand from iterator.c).
    labels, qout, seen = 16, 1, []
    for count in range(1, 12):
        labdiff, keep = minimise_labels(labels, qout, count)
        if labdiff < 2:
            break
        seen.append(keep)
        qout = keep
    assert seen == [2, 3, 4, 5, 6, 8, 10, 12, 14]
    # short names: one label per step up to the full name
    assert minimise_labels(5, 2, 1) == (3, 3)
    assert minimise_labels(5, 4, 2) == (1, 5)


async def test_long_name_upstream_queries_follow_the_schedule() -> None:
    name = ".".join(f"l{i}" for i in range(13)) + ".ex."  # 15 labels with the root

    def handler(query: dns.message.Message, address: str) -> dns.message.Message:
        q = query.question[0]
        if address == ROOT:
            return reply(query, aa=False, authority=("ex. 3600 NS ns.ex.",),
                         additional=("ns.ex. 3600 A " + TLD,))
        if q.name == N(name):
            return reply(query, answer=(f"{name} 300 A 127.100.0.9",))
        return reply(query, authority=(SOA,))

    recursor, conductor, transport, _ = make(handler)
    res = await resolve(recursor, conductor, name)
    assert res.rcode == dns.rcode.NOERROR
    sent = [len(N(q)) for q, _ in asked(transport)]
    expected, qout, count = [], 1, 0
    while True:
        count += 1
        labdiff, keep = minimise_labels(15, qout, count)
        if labdiff < 2:
            break
        expected.append(keep)
        # the referral to ex. keeps the minimised name (it is the cut itself)
        qout = keep
    assert sent == expected + [15]
    assert len(sent) < 15  # fewer queries than labels


@pytest.mark.parametrize(("failure", "rcode", "full_name_asked"), [
    ("nxdomain", dns.rcode.NXDOMAIN, False),
    ("servfail", dns.rcode.SERVFAIL, False),
])
async def test_strict_minimisation_never_falls_back_to_the_full_name(
    failure: str, rcode: int, full_name_asked: bool
) -> None:
    """qname-minimisation-strict: an NXDOMAIN to a minimised query is the answer even in an
    unsigned zone, and a minimised query that fails is not replaced by the full name."""
    handler, _ = world(minimised=failure)
    recursor, conductor, transport, _ = make(handler)  # type: ignore[arg-type]
    recursor.config = dataclasses.replace(recursor.config, qmin_strict=True)
    res = await resolve(recursor, conductor, "www.a.b.ex.")
    assert res.rcode == rcode
    assert (("www.a.b.ex.", "A") in asked(transport)) is full_name_asked
