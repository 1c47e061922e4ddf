"""`resolver serve` options that shape answers before or beside the recursion: local zones
(Unbound's local-zone/local-data, :mod:`resolver.localzone`), serve-stale (RFC 8767,
Unbound's serve-expired family, :mod:`resolver.recursor.stale`), and the cache's TTL bounds
and recursion limits (Unbound's cache-min-ttl ... max-query-restarts, prefetch).  Each flag
is checked here; a bad value is a one-line error naming the flag or the file's line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from configfiles import ConfigError
from resolver import localzone
from resolver.cache.common import MAX_NEGATIVE_TTL_S, MAX_TTL_S
from resolver.localzone import LocalConfig
from resolver.recursor.config import MAX_QUERY_RESTARTS

__all__ = ["add_cache_options", "add_local_options", "cache_settings", "local_config"]


def add_local_options(s: Any) -> None:
    """The local-zone flags of ``resolver serve``."""
    local = s.add_argument_group("local zones (Unbound's local-zone/local-data, README.md)")
    local.add_argument("--local-zone", action="append", default=[], metavar="'NAME TYPE'",
                       help="a local zone: static, transparent, redirect, refuse, deny, "
                            "always_nxdomain, ... (unbound.conf(5) local-zone)")
    local.add_argument("--local-data", action="append", default=[], metavar="'NAME [N] TYPE ARG'",
                       help="a local record in zone-file syntax (N: its TTL), e.g. "
                            "'host.lan. A 192.0.2.1'")
    local.add_argument("--local-data-ptr", action="append", default=[],
                       metavar="'ADDR [N] NAME'",
                       help="a local PTR record for ADDR (N: its TTL)")
    local.add_argument("--local-zones", type=Path, metavar="FILE",
                       help="a file of local-zone:, local-data:, local-data-ptr: and "
                            "unblock-lan-zones: lines (unbound.conf syntax)")
    local.add_argument("--unblock-lan-zones", action="store_true",
                       help="resolve the private-address and AS112 reverse zones upstream "
                            "instead of answering them NXDOMAIN")
    local.add_argument("--no-default-local-zones", action="store_true",
                       help="turn off Unbound's built-in local zones (localhost, onion., "
                            "test., RFC 1918 reverse, ...)")


def _add_stale_options(s: Any) -> None:
    """The serve-stale flags of ``resolver serve``."""
    stale = s.add_argument_group("serve-stale (RFC 8767; Unbound's serve-expired options)")
    stale.add_argument("--serve-expired", action="store_true",
                       help="answer from expired cached data when a fresh resolution fails "
                            "or is slower than --serve-expired-client-timeout")
    stale.add_argument("--serve-expired-ttl", type=int, default=86_400, metavar="SECONDS",
                       help="serve data at most this long past its expiry (0: no limit)")
    stale.add_argument("--serve-expired-ttl-reset", action="store_true",
                       help="a failed refresh starts the expired data's window again")
    stale.add_argument("--serve-expired-reply-ttl", type=int, default=30, metavar="SECONDS",
                       help="TTL of answers from expired data (RFC 8767 recommends 30)")
    stale.add_argument("--serve-expired-client-timeout", type=int, default=1800, metavar="N",
                       help="wait N ms for a fresh answer before the expired one "
                            "(0: the expired answer at once, refreshed behind it)")
    stale.add_argument("--ede-serve-expired", action="store_true",
                       help="answers from expired data carry EDE 3 Stale Answer (RFC 8914)")
    s.add_argument("--serve-original-ttl", action="store_true",
                   help="answer with the TTL the data came with, not the one counting down "
                        "in the cache (cache TTL bounds then do not apply; Unbound's option)")


def _stale_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The serve-stale fields of :class:`~resolver.config.ResolverConfig`, checked."""
    for flag, value in (("--serve-expired-ttl", args.serve_expired_ttl),
                        ("--serve-expired-reply-ttl", args.serve_expired_reply_ttl),
                        ("--serve-expired-client-timeout", args.serve_expired_client_timeout)):
        if value < 0:
            raise ConfigError(f"{flag}: expected a whole number >= 0, got {value}")
    return dict(serve_expired=args.serve_expired, serve_expired_ttl=args.serve_expired_ttl,
                serve_expired_ttl_reset=args.serve_expired_ttl_reset,
                serve_expired_reply_ttl=args.serve_expired_reply_ttl,
                serve_expired_client_timeout=args.serve_expired_client_timeout,
                serve_expired_ede=args.ede_serve_expired,
                serve_original_ttl=args.serve_original_ttl)


def add_cache_options(s: Any) -> None:
    """The cache's flags of ``resolver serve``: serve-stale, then the TTL bounds and the
    recursion limits (Unbound's options)."""
    _add_stale_options(s)
    cache = s.add_argument_group("cache TTL bounds and recursion limits (Unbound's options)")
    cache.add_argument("--cache-min-ttl", type=int, default=0, metavar="SECONDS",
                       help="the least TTL of what is cached and answered")
    cache.add_argument("--cache-max-ttl", type=int, default=MAX_TTL_S, metavar="SECONDS",
                       help="the largest TTL of what is cached and answered")
    cache.add_argument("--cache-max-negative-ttl", type=int, default=MAX_NEGATIVE_TTL_S,
                       metavar="SECONDS", help="the largest TTL of NXDOMAIN and NODATA answers")
    cache.add_argument("--cache-min-negative-ttl", type=int, default=0, metavar="SECONDS",
                       help="the least TTL of NXDOMAIN and NODATA answers "
                            "(0: --cache-min-ttl applies to them)")
    cache.add_argument("--max-query-restarts", type=int, default=MAX_QUERY_RESTARTS,
                       metavar="N", help="CNAME/DNAME hops one query may follow; one more "
                                         "is SERVFAIL")
    cache.add_argument("--prefetch", action="store_true",
                       help="fetch an answer again when it is served in the last tenth of "
                            "its TTL, so popular names never expire from the cache")


def cache_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The serve-stale, TTL bound and limit fields of
    :class:`~resolver.config.ResolverConfig`, checked."""
    for flag, value in (("--cache-min-ttl", args.cache_min_ttl),
                        ("--cache-max-ttl", args.cache_max_ttl),
                        ("--cache-max-negative-ttl", args.cache_max_negative_ttl),
                        ("--cache-min-negative-ttl", args.cache_min_negative_ttl)):
        if not 0 <= value <= 0x7FFFFFFF:  # RFC 2181 §8: TTLs are 31-bit
            raise ConfigError(f"{flag}: expected 0 to 2147483647 seconds, got {value}")
    if args.cache_min_ttl > args.cache_max_ttl:
        raise ConfigError(f"--cache-min-ttl: {args.cache_min_ttl} is above --cache-max-ttl "
                          f"{args.cache_max_ttl}")
    if args.cache_min_negative_ttl > args.cache_max_negative_ttl:
        raise ConfigError(f"--cache-min-negative-ttl: {args.cache_min_negative_ttl} is above "
                          f"--cache-max-negative-ttl {args.cache_max_negative_ttl}")
    if args.max_query_restarts < 1:
        raise ConfigError(f"--max-query-restarts: expected 1 or more, got "
                          f"{args.max_query_restarts}")
    return dict(**_stale_settings(args),
                cache_min_ttl=args.cache_min_ttl, cache_max_ttl=args.cache_max_ttl,
                cache_max_negative_ttl=args.cache_max_negative_ttl,
                cache_min_negative_ttl=args.cache_min_negative_ttl,
                max_query_restarts=args.max_query_restarts, prefetch=args.prefetch)


def local_config(args: argparse.Namespace) -> LocalConfig:
    """The local zones of the command line (and of ``--local-zones FILE``), each checked:
    a one-line error names the flag or the file's line."""
    base = LocalConfig()
    if args.local_zones is not None:
        try:
            text = args.local_zones.read_text()
        except OSError as e:
            raise ConfigError(f"--local-zones: {args.local_zones}: {e.strerror}") from None
        try:
            base = localzone.read_file(text, str(args.local_zones))
        except localzone.LocalZoneError as e:
            raise ConfigError(f"--local-zones: {e}") from None
    zones, data, ptrs = list(base.zones), list(base.data), list(base.ptrs)
    try:
        for text in args.local_zone:
            name, kind = localzone.parse_zone(text)
            zones.append((name.to_text(), kind))
        for text in args.local_data:
            localzone.parse_record(text)
            data.append(text)
        for text in args.local_data_ptr:
            localzone.parse_ptr(text)
            ptrs.append(text)
        config = LocalConfig(tuple(zones), tuple(data), tuple(ptrs),
                             defaults=not args.no_default_local_zones,
                             unblock_lan=base.unblock_lan or args.unblock_lan_zones)
        config.build()
    except localzone.LocalZoneError as e:
        raise ConfigError(f"local zones: {e}") from None
    return config
