"""The peer ring: rendezvous hashing by registered domain (issue 21 part 1)."""

from __future__ import annotations

import collections

import dns.name
import pytest

from resolver.peers.ring import Ring, key_of

KEYS = [f"zone{i}.example{i % 7}.com." for i in range(20_000)]


def _owners(ring: Ring) -> dict[str, str]:
    return {k: ring.owner(k) for k in KEYS}


def test_names_of_one_registered_domain_share_a_key() -> None:
    assert key_of(dns.name.from_text("WWW.Example.CO.UK.")) == "example.co.uk."
    assert key_of(dns.name.from_text("a.b.example.co.uk.")) == "example.co.uk."
    assert key_of(dns.name.from_text("mail.example.lab.")) == "example.lab."
    # a public suffix or the root has no registered domain: it is its own key
    assert key_of(dns.name.from_text("co.uk.")) == "co.uk."
    assert key_of(dns.name.root) == "."


def test_keys_spread_evenly() -> None:
    ring = Ring([f"192.0.2.{i}:5400" for i in range(4)])
    counts = collections.Counter(_owners(ring).values())
    assert set(counts) == set(ring.members)
    for n in counts.values():  # 5,000 expected each; 3 sigma is about 180
        assert abs(n - len(KEYS) / 4) < 400


@pytest.mark.parametrize("n", [3, 5, 8])
def test_adding_one_peer_moves_about_one_nth_and_only_to_it(n: int) -> None:
    members = [f"192.0.2.{i}:5400" for i in range(n)]
    before = _owners(Ring(members))
    after = _owners(Ring([*members, "198.51.100.1:5400"]))
    moved = [k for k in KEYS if before[k] != after[k]]
    share = len(moved) / len(KEYS)
    assert abs(share - 1 / (n + 1)) < 0.02, share
    # nothing moves between the old members: every moved key went to the newcomer
    assert {after[k] for k in moved} == {"198.51.100.1:5400"}


@pytest.mark.parametrize("n", [3, 5, 8])
def test_removing_one_peer_moves_only_its_keys(n: int) -> None:
    members = [f"192.0.2.{i}:5400" for i in range(n)]
    gone = members[1]
    before = _owners(Ring(members))
    after = _owners(Ring([m for m in members if m != gone]))
    moved = [k for k in KEYS if before[k] != after[k]]
    assert abs(len(moved) / len(KEYS) - 1 / n) < 0.02
    assert all(before[k] == gone for k in moved)
    # they move where the ranking said they would, spread over the survivors
    full = Ring(members)
    assert all(after[k] == full.order(k)[1] for k in moved)
    assert len(collections.Counter(after[k] for k in moved)) == n - 1


def test_the_order_is_the_same_whatever_order_members_are_given_in() -> None:
    a = Ring(["x:1", "y:2", "z:3"])
    b = Ring(["z:3", "x:1", "y:2", "x:1"])
    assert all(a.order(k) == b.order(k) for k in KEYS[:500])
    assert len(b) == 3 and "y:2" in b


def test_a_ring_needs_members() -> None:
    with pytest.raises(ValueError):
        Ring([])
