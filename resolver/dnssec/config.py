"""The DNSSEC wing's settings (:class:`DnssecConfig`) and the limits every part of it keeps."""

from __future__ import annotations

from dataclasses import dataclass

from resolver.dnssec.denial import NSEC3_MAX_ITERATIONS
from resolver.dnssec.signatures import SKEW_MAX_S, SKEW_MIN_S

__all__ = ["BOGUS_TTL_S", "MAX_FETCHES", "MAX_RESTARTS", "DnssecConfig"]

MAX_FETCHES = 48
"""DS and DNSKEY sub-requests per client query (a 10-label name needs about 20)."""

BOGUS_TTL_S = 60
"""How long a bogus verdict stands before the data is fetched and checked again (Unbound's
val-bogus-ttl)."""

MAX_RESTARTS = 5
"""Times a bogus answer, DNSKEY set or DS set is fetched again from servers that have not yet
given bogus data for it (Unbound's VAL_MAX_RESTART_COUNT with its server blacklist): one bad
or stale server of several must not make a name fail."""


@dataclass(frozen=True)
class DnssecConfig:
    nsec3_max_iterations: int = NSEC3_MAX_ITERATIONS  # above: insecure, EDE 27
    nsec3_bogus_iterations: int | None = None  # above: bogus (SERVFAIL), EDE 27
    # Unbound's val-nsec3-keysize-iterations with a limit per key size: (bits, iterations)
    # pairs, ascending; the signing zone's smallest key picks the limit (Limits.for_keys),
    # which then replaces nsec3_max_iterations.  Empty: one limit for every key
    nsec3_keysize_iterations: tuple[tuple[int, int], ...] = ()
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
    # Unbound's val-permissive-mode (no by default): "the security checks are performed,
    # but if the result is bogus (failed security), the reply is not withheld from the
    # client with SERVFAIL as usual.  The client receives the bogus data" (unbound.conf(5));
    # such a reply is indeterminate: no AD bit.  Secure answers keep their AD bit.
    permissive: bool = False
    # Unbound's ignore-cd-flag (no by default): "ignore the CD flag from clients and refuse
    # to return bogus answers to them" (unbound.conf(5)): a CD query is validated as any.
    ignore_cd: bool = False
    # CD queries validated too (Unbound, validator.c needs_validation: "User queries are
    # validated with BIT_CD to make our cache clean"): secure data keeps AD (RFC 6840 §5.9),
    # bogus data is passed on as it came, without AD.  Off (Knot Resolver's way): a CD
    # query's answer is not validated at all, never AD.
    validate_cd: bool = True
    # Unbound's aggressive-nsec (yes by default): answers synthesised from the validated
    # NSEC records of the cache (RFC 8198); off, every question not in the cache is asked.
    aggressive_nsec: bool = True
    # Unbound's val-sig-skew-min / val-sig-skew-max: the clock skew allowed around a
    # signature's validity window is 10 % of its lifetime, raised to the minimum, then
    # capped at the maximum (unbound.conf(5); defaults 1 hour and 1 day)
    sig_skew_min: int = SKEW_MIN_S
    sig_skew_max: int = SKEW_MAX_S
    # Unbound's val-max-restart: "the maximum number the validator should restart
    # validation with another authority in case of failed validation" (unbound.conf(5))
    max_restarts: int = MAX_RESTARTS
    # Unbound's val-clean-additional (yes by default): "remove data from the additional
    # section of secure messages that are not signed properly.  Messages that are insecure,
    # bogus, indeterminate or unchecked are not affected" (unbound.conf(5)).  Only RRsets
    # signed by the answer's signer and verified with its keys stay, as Unbound checks them.
    clean_additional: bool = True
    # Unbound's harden-algo-downgrade (no by default): "harden against algorithm downgrade
    # when multiple algorithms are advertised in the DS record.  If no, allows the weakest
    # algorithm to validate the zone" (unbound.conf(5)).  Yes: the DNSKEY RRset and the
    # zone's data must be signed with every algorithm of the DS set.
    harden_algo_downgrade: bool = False
    # Unbound's root-key-sentinel (yes by default): RFC 8509's key-tag sentinel labels on
    # secure A/AAAA answers; no: such a label is an ordinary name
    root_key_sentinel: bool = True
