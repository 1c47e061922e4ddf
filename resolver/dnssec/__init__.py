"""The DNSSEC wing: validation of the recursor's answers (RFC 4033-4035), one concept a module.

Nothing is imported here, so that the recursor may import the pure modules (it reads NSEC
type bitmaps) without pulling in :mod:`resolver.dnssec.validating`, which wraps it.
"""
