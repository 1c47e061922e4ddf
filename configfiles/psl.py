"""Registered domains by the public suffix list shipped with the ``publicsuffixlist`` package
(its bundled ``public_suffix_list.dat``; no network).

The ICANN section only: a provider's edge names (``e1.a.akamaiedge.net``,
``x.cloudfront.net``) then share the provider's registered domain; the private section would
split them.  Used by the differ (where a divergence is counted) and by the peer ring (which
peer owns a name: :mod:`resolver.peers.ring`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

__all__ = ["domain_of", "registered_domain"]


@functools.cache
def _psl() -> Callable[[str], str | None]:
    from publicsuffixlist import PublicSuffixList

    psl = PublicSuffixList(only_icann=True)
    return psl.privatesuffix


def registered_domain(name: str) -> str | None:
    """The registered domain of ``name`` by the bundled public suffix list (no network),
    absolute and in lower case (``example.co.uk.``); None for a public suffix or the root.

    Every registered domain shadowdns hands out (differ, store, report, exports, the peer
    ring) is written this way, as DNS names are everywhere else: with the trailing dot."""
    text = name.rstrip(".").lower()
    if not text:
        return None
    found = _psl()(text)
    return found + "." if found else None


def domain_of(name: str) -> str:
    """Where ``name`` is counted: its :func:`registered_domain`, or the name itself (absolute,
    lower case) when it has none (a public suffix such as ``lab.``, or the root)."""
    found = registered_domain(name)
    if found is not None:
        return found
    text = name.rstrip(".").lower()
    return text + "." if text else "."
