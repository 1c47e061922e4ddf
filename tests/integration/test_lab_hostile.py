"""Hostile upstream answers (issue 24 part 2): the candidate against a lab whose authorities
bend a third of their replies (lab/hostile.py: bit flips, truncation, oversized and garbage
replies, poisoned replies with a wrong ID, question, QR or opcode, slow-drip TCP).

The lab and the candidate run in this test's event loop; the lab serves the default world on
its own port (5354), so it never meets the session's lab on port 53.  First the candidate
resolves every stable manifest name with the lab behaving (the truth); then a fresh candidate
resolves them with the lab hostile, and then again from its cache with the lab behaving.

What must hold: the poison (127.66.6.6, in every reply that must be rejected) never reaches
an answer; a name that validated secure is answered with the truth's data or SERVFAIL, never
with other data; every query is answered; the cache holds nothing it should have rejected.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import pytest

from configfiles.roothints import read_root_hints
from lab.hostile import KINDS, POISON, Hostility
from lab.manifest import manifest, select
from lab.run import running_lab
from lab.world import load_world
from netpolicy import AddressPolicy
from resolver.app import ResolverAnswerer, build
from resolver.config import ResolverConfig
from resolver.model import Request

PORT = 5354
ROUNDS = 3  # each name asked this often per phase (fresh candidate per hostile round)


def _summary(reply: dns.message.Message) -> tuple[str, frozenset[str], bool]:
    data = frozenset(
        f"{rrset.name} {rrset.rdtype} {rd}" for rrset in reply.answer for rd in rrset
        if rrset.rdtype != 46)  # RRSIG bytes may differ (the lab signs again at start)
    return dns.rcode.to_text(reply.rcode()), data, bool(reply.flags & dns.flags.AD)


def _wire_text(reply: dns.message.Message) -> str:
    return "\n".join(str(rrset) for section in (reply.answer, reply.authority,
                                                 reply.additional) for rrset in section)


async def _ask(answerer: ResolverAnswerer, name: str, rdtype: int) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, want_dnssec=True)
    request = Request(query.question[0].name, rdtype, do=True)
    return await asyncio.wait_for(answerer.answer(request, query), 60)


def test_hostile_authorities_never_poison_the_candidate(tmp_path: Path) -> None:
    world = dataclasses.replace(load_world(), port=PORT)
    names = [e for e in select(manifest(world), category="stable")]
    assert len(names) >= 10

    async def main() -> tuple[dict[str, int], list[str], int, int]:
        async with running_lab(world, tmp_path) as (lab, _info):
            policy = AddressPolicy.lab_mode("--lab")
            config = ResolverConfig(root_hints=read_root_hints(tmp_path / "root.hints", policy),
                                    trust_anchor_file=tmp_path / "trust-anchor.ds",
                                    do_ip6=False, upstream_port=PORT, egress="127.0.0.1")

            async def phase(answerer: ResolverAnswerer) -> list[tuple[str, dns.message.Message]]:
                replies = await asyncio.gather(*(_ask(answerer, str(e.name), e.rdtype)
                                                 for e in names))
                return [(f"{e.name} {e.rdtype}", r) for e, r in zip(names, replies, strict=True)]

            truth = {key: _summary(r) for key, r in await phase(build(config))}
            problems: list[str] = []
            servfails = answered = 0
            for round_ in range(ROUNDS):
                lab.hostility = Hostility(0.35, seed=round_)
                candidate = build(config)
                hostile = await phase(candidate)
                lab.hostility = None
                cached = await phase(candidate)
                for key, reply in hostile + cached:
                    answered += 1
                    if POISON in _wire_text(reply):
                        problems.append(f"{key}: the poison reached the answer")
                    rcode, data, ad = _summary(reply)
                    t_rcode, t_data, t_ad = truth[key]
                    if rcode == "SERVFAIL":
                        servfails += 1
                    elif t_ad and (rcode, data) != (t_rcode, t_data):
                        problems.append(f"{key}: secure name answered {rcode} {sorted(data)}, "
                                        f"truth {t_rcode} {sorted(t_data)}")
            bent = {k[len("hostile_"):]: v for k, v in lab.stats.items()
                    if k.startswith("hostile_")}
            return bent, problems, servfails, answered

    bent, problems, servfails, answered = asyncio.run(main())
    assert not problems, "\n".join(problems[:20])
    assert answered == 2 * ROUNDS * len(names)
    # every kind of hostility was met: the test exercised what it claims
    assert set(bent) == set(KINDS), bent
    assert sum(bent.values()) >= 50, bent
    print(f"hostile replies {bent}; SERVFAIL {servfails} of {answered}")


def test_hostility_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="share"):
        Hostility(0.0)
    with pytest.raises(ValueError, match="unknown hostile kinds"):
        Hostility(0.5, kinds=("bitflip", "nonsense"))
