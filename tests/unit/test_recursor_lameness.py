"""Lameness kept in the infra cache and used in server selection (issue 17 part 2, issue 16),
and YXDOMAIN from a DNAME substitution, at the MockTransport/Exchanger seam.

A server that refuses a zone's question (RFC 4697 §2.1) or answers for a signed zone without
any RRSIG (Unbound's dnssec-lame) is marked lame for that zone (``InfraCache.mark_lame``) and
not asked for it again while the zone has another server (``is_lame``); when every server is
DNSSEC-lame their answer is taken all the same and left to the validator.
"""

from __future__ import annotations

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from resolver.recursor.config import LAME_TTL
from tests.unit.test_recursor import AUTH, AUTH2, addresses, make, reply, resolve, small_world

N = dns.name.from_text
T = dns.rdatatype
ZONE = N("zone.ex.")
SIG = ("www.zone.ex. 300 RRSIG A 13 3 300 20300101000000 20200101000000 1 zone.ex. "
       "AAAA")


def refusing(at: str):  # type: ignore[no-untyped-def]
    def handler(query: dns.message.Message, address: str) -> dns.message.Message | None:
        if address == at:
            return reply(query, rcode=dns.rcode.REFUSED)
        return small_world(query, address)
    return handler


async def test_a_refusing_server_is_lame_for_the_zone_and_skipped_next_time() -> None:
    recursor, conductor, transport, clock = make(refusing(AUTH), qmin=False)
    recursor.cache.infra.rtt_update(AUTH, 0.001, clock.monotonic())  # looks fastest
    recursor.cache.infra.rtt_update(AUTH2, 0.5, clock.monotonic())
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    assert recursor.cache.infra.is_lame(AUTH, ZONE, clock.monotonic())
    assert not recursor.cache.infra.is_lame(AUTH2, ZONE, clock.monotonic())
    assert not recursor.cache.infra.is_lame(AUTH, N("other.ex."), clock.monotonic())
    transport.sent.clear()
    res = await resolve(recursor, conductor, "nope.zone.ex.")
    assert res.rcode == dns.rcode.NXDOMAIN
    assert [s.address for s in transport.sent] == [AUTH2]


async def test_a_lame_server_is_avoided_for_the_lame_ttl_then_asked_again() -> None:
    """Lameness lasts LAME_TTL (Unbound's infra-host-ttl): a second before it ends the
    refusing server, still the fastest, is passed over for the zone; once it has ended the
    server is asked again (and, refusing again, marked again)."""
    recursor, conductor, transport, clock = make(refusing(AUTH), qmin=False)
    infra = recursor.cache.infra
    infra.rtt_update(AUTH, 0.001, clock.monotonic())  # looks fastest throughout
    infra.rtt_update(AUTH2, 0.5, clock.monotonic())
    await resolve(recursor, conductor, "www.zone.ex.")
    asked = [s.address for s in transport.sent if s.address in (AUTH, AUTH2)]
    assert asked == [AUTH, AUTH2]
    clock.advance(LAME_TTL - 1)
    transport.sent.clear()
    res = await resolve(recursor, conductor, "one.zone.ex.")
    assert res.rcode == dns.rcode.NXDOMAIN
    assert [s.address for s in transport.sent if s.address in (AUTH, AUTH2)] == [AUTH2]
    clock.advance(1)
    for _ in range(4):  # AUTH2 answered at once meanwhile: keep it the slower one
        infra.rtt_update(AUTH2, 0.5, clock.monotonic())
    assert not infra.is_lame(AUTH, ZONE, clock.monotonic())
    transport.sent.clear()
    res = await resolve(recursor, conductor, "two.zone.ex.")
    assert res.rcode == dns.rcode.NXDOMAIN
    assert [s.address for s in transport.sent if s.address in (AUTH, AUTH2)] == [AUTH, AUTH2]
    assert infra.is_lame(AUTH, ZONE, clock.monotonic())


async def test_a_lame_server_is_still_asked_when_it_is_the_only_one_left() -> None:
    recursor, conductor, transport, clock = make(small_world, qmin=False)
    for server in (AUTH, AUTH2):
        recursor.cache.infra.mark_lame(server, ZONE, clock.monotonic(), 900)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    assert {s.address for s in transport.sent} & {AUTH, AUTH2}


def unsigned_at(at: set[str]):  # type: ignore[no-untyped-def]
    """small_world, with signatures over www.zone.ex. A except from the servers in ``at``."""
    def handler(query: dns.message.Message, address: str) -> dns.message.Message | None:
        q = query.question[0]
        if address in (AUTH, AUTH2) and q.name == N("www.zone.ex.") and q.rdtype == T.A:
            answer = ("www.zone.ex. 300 A 127.100.0.1",)
            return reply(query, answer=answer if address in at else (*answer, SIG))
        return small_world(query, address)
    return handler


def signed(zone: dns.name.Name) -> bool:
    return zone == ZONE  # as the DNSSEC wing's ZoneKeys says, given at construction


async def test_a_dnssec_lame_server_of_a_signed_zone_is_left_for_one_that_signs() -> None:
    recursor, conductor, transport, clock = make(unsigned_at({AUTH}), qmin=False,
                                                 signed_zone_hint=signed)
    recursor.cache.infra.rtt_update(AUTH, 0.001, clock.monotonic())
    recursor.cache.infra.rtt_update(AUTH2, 0.5, clock.monotonic())
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert [r.rdtype for r in res.answer] == [T.A, T.RRSIG]
    assert [s.address for s in transport.sent if s.address in (AUTH, AUTH2)] == [AUTH, AUTH2]
    assert recursor.cache.infra.is_lame(AUTH, ZONE, clock.monotonic())


async def test_when_every_server_is_dnssec_lame_the_answer_is_taken() -> None:
    recursor, conductor, _, _ = make(unsigned_at({AUTH, AUTH2}), qmin=False,
                                     signed_zone_hint=signed)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    assert [r.rdtype for r in res.answer] == [T.A]


async def test_unsigned_answers_are_no_lameness_where_dnssec_is_not_expected() -> None:
    recursor, conductor, transport, clock = make(unsigned_at({AUTH, AUTH2}), qmin=False,
                                                 signed_zone_hint=lambda zone: False)
    res = await resolve(recursor, conductor, "www.zone.ex.")
    assert addresses(res) == {"127.100.0.1"}
    assert len([s for s in transport.sent if s.address in (AUTH, AUTH2)]) == 1
    assert not recursor.cache.infra.is_lame(AUTH, ZONE, clock.monotonic())
    assert not recursor.cache.infra.is_lame(AUTH2, ZONE, clock.monotonic())


async def test_dname_substitution_overflow_is_yxdomain_with_the_dname() -> None:
    long_target = ".".join(["b" * 60, "c" * 60, "d" * 60]) + ".ex."
    qname = f"{'a' * 60}.{'a' * 60}.deep.zone.ex."

    def handler(query: dns.message.Message, address: str) -> dns.message.Message | None:
        if address in (AUTH, AUTH2) and query.question[0].name == N(qname):
            return reply(query, rcode=dns.rcode.YXDOMAIN,
                         answer=(f"deep.zone.ex. 300 DNAME {long_target}",))
        return small_world(query, address)

    recursor, conductor, transport, _ = make(handler, qmin=False)
    res = await resolve(recursor, conductor, qname)
    assert res.rcode == dns.rcode.YXDOMAIN
    assert [r.rdtype for r in res.answer] == [T.DNAME]
    assert len([s for s in transport.sent if s.address in (AUTH, AUTH2)]) == 1  # not retried
    # from the cache, the same
    again = await resolve(recursor, conductor, qname)
    assert again.rcode == dns.rcode.YXDOMAIN and [r.rdtype for r in again.answer] == [T.DNAME]
