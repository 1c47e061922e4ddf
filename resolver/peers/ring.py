"""Which peer owns a question: rendezvous (highest random weight) hashing over the group's
members, keyed by the registered domain of the question's name.

Every member scores ``blake2b(member id, key)`` and the highest score owns the key; the
rest of the ranking is the order in which the others take the key over when the owner is
dead (docs/PEERS.md says why rendezvous rather than a ring of virtual nodes).  The key is
the name's registered domain by the packaged public suffix list (:mod:`configfiles.psl`), so
all names of a zone (``www.example.com``, ``mail.example.com``, ``example.com``) meet on one
owner and share its delegation and key cache; a name with no registered domain (a public
suffix, the root) is its own key.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence

import dns.name

from configfiles.psl import domain_of

__all__ = ["Ring", "key_of"]


@functools.lru_cache(maxsize=65536)
def _key_text(text: str) -> str:
    return domain_of(text)


def key_of(name: dns.name.Name) -> str:
    """The ring key of ``name``: its registered domain, absolute, in lower case."""
    return _key_text(name.to_text().lower())


def _score(member: bytes, key: bytes) -> int:
    digest = hashlib.blake2b(key, digest_size=8, key=member).digest()
    return int.from_bytes(digest, "big")


class Ring:
    """Rendezvous hashing over ``members`` (ids as the whole group spells them: every member
    must be given the same ids for the group to agree on owners)."""

    def __init__(self, members: Iterable[str]) -> None:
        ids = sorted(set(members))
        if not ids:
            raise ValueError("a ring needs at least one member")
        self.members: tuple[str, ...] = tuple(ids)
        # the member's id hashed to a blake2b key (at most 64 bytes, whatever the id's length)
        self._keys = [(m, hashlib.blake2b(m.encode(), digest_size=32).digest()) for m in ids]
        self._order = functools.lru_cache(maxsize=65536)(self._rank)

    def _rank(self, key: str) -> tuple[str, ...]:
        k = key.encode()
        scored = sorted(((_score(mk, k), m) for m, mk in self._keys), reverse=True)
        return tuple(m for _, m in scored)

    def order(self, key: str) -> Sequence[str]:
        """All members, the owner of ``key`` first, then who takes over, and so on."""
        return self._order(key)

    def owner(self, key: str) -> str:
        return self._order(key)[0]

    def __len__(self) -> int:
        return len(self.members)

    def __contains__(self, member: object) -> bool:
        return member in self.members
