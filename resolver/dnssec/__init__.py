"""The DNSSEC wing: validation of the recursor's answers (RFC 4033-4035), one concept a module.

Pure checks: :mod:`~resolver.dnssec.verdicts` (outcomes, EDE codes),
:mod:`~resolver.dnssec.signatures` (RRSIGs), :mod:`~resolver.dnssec.keys` (DS/DNSKEY),
:mod:`~resolver.dnssec.denial` (NSEC/NSEC3 proofs), :mod:`~resolver.dnssec.anchors` (trust
anchors).  Around the recursor: :mod:`~resolver.dnssec.chain` (the chain of trust),
:mod:`~resolver.dnssec.answers` (the verdict on an answer), :mod:`~resolver.dnssec.synthesis`
(RFC 8198), :mod:`~resolver.dnssec.validating` (the validating recursor itself),
:mod:`~resolver.dnssec.config` (settings).

Nothing is imported here, so that the recursor may import the pure modules (it reads NSEC
type bitmaps) without pulling in :mod:`resolver.dnssec.validating`, which wraps it.
"""
