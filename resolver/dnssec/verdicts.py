"""Security verdicts: the :class:`Outcome` of a check, the Extended DNS Errors (RFC 8914)
that say why, and how verdicts combine (the weakest one wins, RFC 4035 §5).

Every module of the wing speaks in these: a check returns an :class:`Outcome` (a
:class:`~resolver.cache.dnscache.Security` verdict, an :class:`Ede` code when there is one,
and a short text saying why), made with :func:`secure`, :func:`insecure` or :func:`bogus`.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass

import dns.rdatatype

from resolver.cache import Security

__all__ = ["Ede", "Outcome", "bogus", "insecure", "secure", "type_name", "weakest"]


class Ede(enum.IntEnum):
    """Extended DNS Error codes (RFC 8914) that validation reports."""

    UNSUPPORTED_DNSKEY_ALGORITHM = 1
    UNSUPPORTED_DS_DIGEST = 2
    DNSSEC_BOGUS = 6
    SIGNATURE_EXPIRED = 7
    SIGNATURE_NOT_YET_VALID = 8
    DNSKEY_MISSING = 9
    RRSIGS_MISSING = 10
    NSEC_MISSING = 12
    UNSUPPORTED_NSEC3_ITERATIONS = 27


@dataclass(frozen=True)
class Outcome:
    """A verdict, with the EDE code and text that say why (for bogus and some insecure)."""

    security: Security
    ede: Ede | None = None
    why: str = ""

    @property
    def secure(self) -> bool:
        return self.security is Security.SECURE

    @property
    def bogus(self) -> bool:
        return self.security is Security.BOGUS


def secure(why: str = "") -> Outcome:
    return Outcome(Security.SECURE, None, why)


def insecure(why: str, ede: Ede | None = None) -> Outcome:
    return Outcome(Security.INSECURE, ede, why)


def bogus(ede: Ede, why: str) -> Outcome:
    return Outcome(Security.BOGUS, ede, why)



WEAKNESS = {Security.BOGUS: 0, Security.INDETERMINATE: 1, Security.INSECURE: 2,
            Security.SECURE: 3}
"""Verdicts from the weakest to the strongest: an answer is as secure as its weakest part."""


def weakest(verdicts: Iterable[Security]) -> Security:
    """The weakest of ``verdicts`` (some must be given)."""
    return min(verdicts, key=lambda s: WEAKNESS[s])


@functools.lru_cache(maxsize=512)
def type_name(rdtype: int) -> str:
    """A record type's mnemonic (``A``, ``DNSKEY``, ``TYPE65280``), for the texts."""
    return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))
