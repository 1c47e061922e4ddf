"""`resolver serve` options that shape answers before or beside the recursion: local zones
(Unbound's local-zone/local-data, :mod:`resolver.localzone`) and serve-stale (RFC 8767,
Unbound's serve-expired family, :mod:`resolver.recursor.stale`).  Each flag is checked here;
a bad value is a one-line error naming the flag or the file's line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from configfiles import ConfigError
from resolver import localzone
from resolver.localzone import LocalConfig

__all__ = ["add_local_options", "add_stale_options", "local_config", "stale_settings"]


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


def add_stale_options(s: Any) -> None:
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


def stale_settings(args: argparse.Namespace) -> dict[str, Any]:
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
