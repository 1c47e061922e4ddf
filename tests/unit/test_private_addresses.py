"""DNS rebinding protection (Unbound's private-address / private-domain, unbound.conf(5)):
private addresses are removed from public names' answers and glue, over the MockTransport
seam; the operator's settings (``resolver serve``) and the testbound translation."""

from __future__ import annotations

import random
from pathlib import Path

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from configfiles import ConfigError
from deckard.scenario import parse
from deckard.text import ScenarioError
from resolver.app import assemble, build, private_addresses
from resolver.cache import DnsCache
from resolver.clock import ManualClock
from resolver.conductor import Conductor, MockTransport
from resolver.config import ResolverConfig
from resolver.model import Request
from resolver.recursor import Recursor, RecursorConfig
from resolver.recursor.private import PrivateAddresses
from tests.unit.test_recursor import ROOT, TLD, reply, resolve
from tests.unit.test_testbound import scenario_text

T = dns.rdatatype
PRIVATE_NS = "10.53.0.1"  # a server of ex. whose glue is in a private range
PUBLIC_NS = TLD


def world(query: dns.message.Message, address: str) -> dns.message.Message:
    """ex. has two servers: ns1 with glue in 10/8 (it answers www.ex. with an address, ns2
    with a NODATA) and ns2."""
    name = query.question[0].name.to_text().lower()
    qtype = query.question[0].rdtype
    if address == ROOT:
        return reply(query, aa=False, authority=("ex. 3600 NS ns1.ex.", "ex. 3600 NS ns2.ex."),
                     additional=(f"ns1.ex. 3600 A {PRIVATE_NS}", f"ns2.ex. 3600 A {PUBLIC_NS}"))
    if address == PRIVATE_NS and name == "www.ex.":
        return reply(query, answer=(f"{name} 300 A 192.0.2.66",))
    if name == "ns1.ex." and qtype == T.A:
        return reply(query, answer=(f"ns1.ex. 3600 A {PRIVATE_NS}",))
    if name == "mixed.ex.":
        return reply(query, answer=("mixed.ex. 300 A 10.1.2.3", "mixed.ex. 300 A 192.0.2.10"))
    if name.endswith("in.ex.") and qtype == T.AAAA:
        return reply(query, answer=(f"{name} 300 AAAA fd00::7",))
    if name.endswith("in.ex."):
        return reply(query, answer=(f"{name} 300 A 10.0.0.7",))
    if name == "alias.ex.":
        return reply(query, answer=("alias.ex. 300 CNAME host.in.ex.",
                                    "host.in.ex. 300 A 10.0.0.7"))
    return reply(query, authority=("ex. 300 SOA ns1.ex. host.ex. 1 2 3 4 300",))


def make(private: PrivateAddresses) -> tuple[Recursor, Conductor, MockTransport]:
    transport = MockTransport(lambda addr, q, tcp: world(q, addr))
    parts = assemble(transport, ManualClock(), cache=DnsCache(4 * 1024 * 1024),
                     root_hints=(("a.root.", ROOT),),
                     recursor_config=RecursorConfig(qname_minimisation=False, private=private),
                     rng=random.Random(3))
    return parts.recursor, parts.conductor, transport


TEN = PrivateAddresses.parse(["10.0.0.0/8", "fd00::/8"], ["in.ex"])


def addresses(answer: list[dns.rrset.RRset], rdtype: int = T.A) -> set[str]:
    return {rd.address for r in answer if r.rdtype == rdtype for rd in r}


@pytest.mark.parametrize("private, expected", [
    (PrivateAddresses(), {"10.1.2.3", "192.0.2.10"}),  # the default: nothing removed
    (TEN, {"192.0.2.10"}),
])
async def test_private_records_of_a_public_name_are_removed(
        private: PrivateAddresses, expected: set[str]) -> None:
    recursor, conductor, _ = make(private)
    res = await resolve(recursor, conductor, "mixed.ex.")
    assert res.rcode == dns.rcode.NOERROR and addresses(res.answer) == expected


async def test_an_rrset_left_empty_is_a_nodata() -> None:
    private = PrivateAddresses.parse(["10.0.0.0/8", "192.0.2.10"])  # one address: a /32
    recursor, conductor, _ = make(private)
    res = await resolve(recursor, conductor, "mixed.ex.")
    assert res.rcode == dns.rcode.NOERROR and res.answer == []


async def test_names_under_a_private_domain_keep_them() -> None:
    recursor, conductor, _ = make(TEN)
    res = await resolve(recursor, conductor, "a.b.in.ex.")
    assert addresses(res.answer) == {"10.0.0.7"}
    res = await resolve(recursor, conductor, "a.b.in.ex.", "AAAA")
    assert addresses(res.answer, T.AAAA) == {"fd00::7"}
    # the owner of the address decides: a public alias to a private-domain name keeps it
    res = await resolve(recursor, conductor, "alias.ex.")
    assert addresses(res.answer) == {"10.0.0.7"}
    # without the domain the same answers lose their addresses
    recursor, conductor, _ = make(PrivateAddresses.parse(["10.0.0.0/8", "fd00::/8"]))
    assert (await resolve(recursor, conductor, "a.b.in.ex.")).answer == []
    res = await resolve(recursor, conductor, "alias.ex.")
    assert [r.rdtype for r in res.answer] == [T.CNAME]


async def test_glue_in_a_private_range_is_not_used() -> None:
    for seed in range(4):  # whichever server the conductor would pick first
        recursor, conductor, transport = make(TEN)
        conductor.rng = random.Random(seed)
        res = await resolve(recursor, conductor, "www.ex.")
        assert PRIVATE_NS not in transport.per_server(), seed
        assert res.rcode == dns.rcode.NOERROR and res.answer == [], seed


async def test_the_operator_setting_filters_answers() -> None:
    c = ResolverConfig(root_hints=(("a.root.", ROOT),), validation=False, priming=False,
                       do_ip6=False, private_addresses=("10.0.0.0/8",))
    answerer = build(c, ManualClock(), MockTransport(lambda addr, q, tcp: world(q, addr)))
    qname = dns.name.from_text("mixed.ex.")
    reply_ = await answerer.answer(Request(qname, T.A), dns.message.make_query(qname, "A"))
    assert addresses(reply_.answer) == {"192.0.2.10"}


def test_bad_operator_settings_are_one_line_errors() -> None:
    with pytest.raises(ConfigError, match=r"--private-address '10.0.0.0/33' is not"):
        private_addresses(ResolverConfig(private_addresses=("10.0.0.0/33",), validation=False))
    with pytest.raises(ConfigError, match=r"--private-domain 'a..b'"):
        private_addresses(ResolverConfig(private_domains=("a..b",), validation=False))
    assert private_addresses(ResolverConfig(validation=False)) == PrivateAddresses()


def test_the_testbound_header_is_translated() -> None:
    c = parse(Path("x.rpl"), scenario_text(
        "\tprivate-address: 10.0.0.0/8\n\tprivate-address: 192.0.2.1\n"
        "\tprivate-domain: \"in.example.com\"")).config
    assert c.unsupported == ()
    assert [str(n) for n in c.private.networks] == ["10.0.0.0/8", "192.0.2.1/32"]
    assert c.private.domains == (dns.name.from_text("in.example.com."),)
    with pytest.raises(ScenarioError, match=r"x.rpl:\d+: private-address: 'nowhere'"):
        parse(Path("x.rpl"), scenario_text("\tprivate-address: nowhere"))


def test_resolver_serve_flags() -> None:
    from tests.unit.test_root_data import config

    c = config("--private-address", "10.0.0.0/8", "--private-address", "fd00::/8",
               "--private-domain", "lan.example", "--tcp-upstream")
    assert c.private_addresses == ("10.0.0.0/8", "fd00::/8")
    assert c.private_domains == ("lan.example",) and c.tcp_upstream is True
    assert private_addresses(c).allowed(dns.name.from_text("pc.lan.example."))
    plain = config()
    assert (plain.private_addresses, plain.tcp_upstream) == ((), False)
    with pytest.raises(ConfigError, match=r"--private-address '300.0.0.0/8' is not"):
        config("--private-address", "300.0.0.0/8")
