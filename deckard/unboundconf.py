"""The testbound dialect's header: Unbound's own ``testdata/*.rpl`` configure the resolver
with a literal ``unbound.conf`` fragment before ``CONFIG_END``::

    server:
        target-fetch-policy: "0 0 0 0 0"
        qname-minimisation: "no"
        trust-anchor: "example.com. IN DS 2854 3 1 46e4ffc6..."
        val-override-date: "20070916134226"
    stub-zone:
        name: "."
        stub-addr: 193.0.14.129     # K.ROOT-SERVERS.NET.
    CONFIG_END

:func:`is_unbound_conf` recognises it by content (a clause line such as ``server:`` or
``stub-zone:`` on its own); :func:`parse_unbound_conf` translates it into the same
:class:`~deckard.header.ScenarioConfig` the Deckard header gives, with ``dialect`` set to
``testbound``.  Every option is one of three kinds, decided by the tables below:

* **translated** into the candidate's configuration (root hint, QNAME minimisation, trust
  anchors and the validation date, address families, glue hardening, forwarding, ...);
* **a no-op**: the option cannot change the answers the scenario checks, for the reason
  given in :data:`NO_OPS` (logging, capacity, ports, the client's ACL when it allows, ...),
  or its value is what the candidate does anyway (:data:`AS_THE_CANDIDATE_DOES`);
* **unsupported**: anything else, including an option missing from every table.  The
  scenario is then not run; it is reported as ``unsupported: KEY`` (``KEY: VALUE`` when
  only some values are unsupported), never as a pass.

Lines are ``key: value`` with ``#`` comments (outside double quotes); a line whose first
non-blank character is ``;`` is a comment too (testbound skips those before Unbound's
parser sees the file).  testbound's temporary files (``TEMPFILE_NAME``,
``TEMPFILE_CONTENTS``, ``AUTOTRUST_FILE``) are taken out first (:mod:`deckard.anchorfiles`):
the trust anchor options read them; other testbound header words (``COMMANDLINE``, ...) are
unsupported.
"""

from __future__ import annotations

import calendar
import ipaddress
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.name
import dns.rdatatype

from deckard import anchorfiles
from deckard.header import ScenarioConfig, ValidationConfig
from deckard.records import Record, RecordError, parse_record
from deckard.text import ScenarioError, strip_comment, unquote
from resolver import localzone
from resolver.localzone_defaults import AS112_ZONES
from resolver.model import normal_server
from resolver.recursor import ConfiguredZone
from resolver.recursor.nat64 import DEFAULT_PREFIX as DEFAULT_NAT64_PREFIX
from resolver.recursor.nat64 import nat64_prefix
from resolver.recursor.private import PrivateAddressError, PrivateAddresses, network

CLAUSES = frozenset(
    "server stub-zone forward-zone auth-zone view remote-control python dynlib rpz "
    "cachedb dnstap dnscrypt ipset".split()
)
"""unbound.conf clause names: a header line that is one of these alone is a clause."""

TESTBOUND_WORDS = (
    "COMMANDLINE", "AUTOTRUST_FILE", "AUTOTRUST_END", "TEMPFILE_NAME", "TEMPFILE_CONTENTS",
    "TEMPFILE_END", "$INCLUDE_TEMPFILE",
)
"""testbound's own header words (temporary files, command-line options, autotrust state)."""

_CLAUSE_LINE = re.compile(r"^\s*([a-z][a-z0-9-]*)\s*:\s*(.*)$")
_DATE = re.compile(r"[0-9]{14}\Z")
_YES = {"yes", "on", "true", "1"}
_NO = {"no", "off", "false", "0"}

NO_OPS: dict[str, str] = {
    # logging and statistics: what Unbound writes to its log, never what it answers
    **dict.fromkeys(
        "verbosity logfile use-syslog log-time-ascii log-queries log-replies log-servfail "
        "log-local-actions log-tag-queryreply log-identity log-destaddr val-log-level "
        "statistics-interval statistics-cumulative extended-statistics use-systemd "
        "log-time-iso shm-enable shm-key statistics-inhibit-zero val-log-squelch".split(),
        "logging and statistics only: the answers are the same",
    ),
    "ede": (
        "Unbound attaches Extended DNS Errors (RFC 8914) only with ede: yes; the candidate "
        "attaches its validator's always, which only MATCH ede=N / ede=any can see, and "
        "scenarios use those with ede: yes (ede-serve-expired still needs it: SERVE_EXPIRED)"
    ),
    # process, sockets and capacity: the run is in-process with a cache far bigger than
    # any scenario's few dozen records
    **dict.fromkeys(
        "num-threads num-queries-per-thread outgoing-range outgoing-num-tcp "
        "incoming-num-tcp so-rcvbuf so-sndbuf so-reuseport msg-cache-size msg-cache-slabs "
        "rrset-cache-size rrset-cache-slabs key-cache-size key-cache-slabs neg-cache-size "
        "infra-cache-numhosts infra-cache-slabs ratelimit-slabs ip-ratelimit-slabs "
        "interface port outgoing-interface outgoing-port-permit outgoing-port-avoid "
        "chroot username directory pidfile root-hints-file-less "
        "do-daemonize".split(),
        "process, socket and cache-capacity settings: the run is in-process and no scenario "
        "comes near a capacity limit",
    ),
    # upstream sockets and connections: how and when packets go, never what is asked or
    # answered (testbound plays no real socket)
    **dict.fromkeys(
        "delay-close outgoing-tcp-mss tcp-mss tcp-idle-timeout edns-tcp-keepalive "
        "edns-tcp-keepalive-timeout tcp-reuse-timeout max-reuse-tcp-queries "
        "tcp-auth-query-timeout".split(),
        "socket and connection timing (unbound.conf(5): ports closed later, segment sizes, "
        "idle TCP connections): the same queries and answers",
    ),
    # overload protection: what Unbound drops when clients wait in numbers, and the
    # rate-limit details that count only once ratelimit / ip-ratelimit is on (translated
    # as 0, off, alone: AS_THE_CANDIDATE_DOES)
    **dict.fromkeys(
        "discard-timeout wait-limit wait-limit-cookie wait-limit-netblock "
        "wait-limit-cookie-netblock sock-queue-timeout stream-wait-size ratelimit-size "
        "ratelimit-factor ratelimit-backoff ratelimit-for-domain ratelimit-below-domain "
        "ip-ratelimit-size ip-ratelimit-factor ip-ratelimit-backoff "
        "ip-ratelimit-cookie".split(),
        "overload and rate-limit details: they act only under a load no scenario makes, "
        "or with ratelimit / ip-ratelimit on, which the translation accepts only as 0",
    ),
    # TLS and HTTPS: the scenario's client asks over UDP, and nothing goes upstream over
    # TLS (tls-upstream and the zones' *-tls-upstream are accepted only as no)
    **dict.fromkeys(
        "tls-service-key tls-service-pem tls-port https-port http-endpoint "
        "http-max-streams http-query-buffer-size http-response-buffer-size http-nodelay "
        "http-notls-downstream tls-cert-bundle tls-win-cert tls-system-cert tls-ciphers "
        "tls-ciphersuites tls-session-ticket-keys tls-use-sni tls-additional-port "
        "pad-responses pad-responses-block-size pad-queries pad-queries-block-size".split(),
        "TLS, HTTPS and padding (RFC 7830, RFC 8467: over TLS only) settings: the scenario's "
        "client asks over UDP and nothing goes upstream over TLS",
    ),
    "nsid": (
        "Unbound puts its NSID (RFC 5001) only in answers to queries that carry the NSID "
        "option; testbound's client query carries no EDNS option"
    ),
    "jostle-timeout": (
        "load shedding when num-queries-per-thread is full (unbound.conf(5) 'Timeout used "
        "when the server is very busy'): a capacity setting, as num-queries-per-thread"
    ),
    "target-fetch-policy": (
        "how many NS targets Unbound resolves ahead of need; the candidate resolves a "
        "target when it needs its address.  Prefetching adds upstream queries, it does not "
        "change the client's answer"
    ),
    "rrset-roundrobin": (
        "the order of records inside an RRset: RR order is not compared by the matcher "
        "(Deckard's rule, applied to both dialects)"
    ),
    "prefetch-key": (
        "when Unbound fetches a zone's DNSKEY RRset (at the referral that brings its DS, "
        "unbound.conf(5), instead of when the validator needs it), as target-fetch-policy "
        "is when it resolves NS targets: the candidate fetches the same keys when it "
        "validates, within the same client query; the answer is the same"
    ),
}
"""Options that cannot change the answers a scenario checks, with the reason."""

AS_THE_CANDIDATE_DOES: dict[str, tuple[frozenset[str], str]] = {
    "trust-anchor-signaling": (
        frozenset({"no"}),
        "the candidate sends no RFC 8145 key-tag queries",
    ),
    "ratelimit": (frozenset({"0"}), "the candidate limits no query rate"),
    "udp-connect": (frozenset({"yes"}), "the candidate connects its upstream UDP sockets "
                    "(NetworkTransport: the kernel drops datagrams from other sources)"),
    "infra-cache-min-rtt": (frozenset({"50"}), "the candidate's lowest retransmission "
                            "timeout is 50 ms (resolver.cache.infra.MIN_RTO_S)"),
    "infra-host-ttl": (frozenset({"900"}), "the candidate keeps what it learnt about a "
                       "server (lameness, EDNS, 0x20) for 900 s"),
    "infra-keep-probing": (frozenset({"no"}), "a dead server is asked only when nothing "
                           "else is left"),
    "unwanted-reply-threshold": (frozenset({"0"}), "the candidate counts no unwanted "
                                 "replies"),
    "ip-ratelimit": (frozenset({"0"}), "the candidate limits no client's rate"),
    "do-tcp": (frozenset({"yes"}), "the candidate retries over TCP on truncation"),
    "harden-short-bufsize": (frozenset({"yes"}), "an EDNS buffer size under 512 counts as "
                             "512, RFC 6891 §6.2.3 (the server's udp_limit, the runner's "
                             "client limit)"),
    "harden-large-queries": (frozenset({"no"}), "the candidate answers queries of any size"),
    "disable-edns-do": (frozenset({"no"}), "the candidate sets DO on its EDNS queries"),
    "answer-cookie": (frozenset({"no"}), "the candidate answers no DNS cookies (RFC 7873) "
                      "to clients"),
    "fast-server-permil": (frozenset({"0"}), "the candidate picks at random among the "
                           "servers within the RTT band of the fastest, as Unbound with 0"),
    "access-control": (
        frozenset(),  # decided by the action word, see _access_control
        "the scenario's client is allowed to query",
    ),
}
"""Options whose listed values are what the candidate does anyway (others: unsupported)."""

BOOLEAN_TRANSLATED = (
    "do-ip4", "do-ip6", "harden-glue", "do-not-query-localhost", "minimal-responses",
    "iter-scrub-promiscuous", "harden-dnssec-stripped", "harden-referral-path", "prefetch",
    "qname-minimisation-strict",
    # DnssecConfig.permissive / ignore_cd, RecursorConfig.deny_any (unbound.conf(5))
    "val-permissive-mode", "ignore-cd-flag", "deny-any",
    # DnssecConfig.aggressive_nsec (RFC 8198); DnsCache(nxdomain_cut=): RFC 8020 below
    # DNSSEC-secure NXDOMAINs only (yes, the default) or never (no)
    "aggressive-nsec", "harden-below-nxdomain",
    "disable-dnssec-lame-check",  # RecursorConfig.dnssec_lame_check (inverted)
    "val-clean-additional",  # DnssecConfig.clean_additional
    "use-caps-for-id",  # the conductor's 0x20 (assemble(use_0x20=)); absent: no, Unbound's
    "harden-algo-downgrade",  # DnssecConfig.harden_algo_downgrade
    "root-key-sentinel",  # DnssecConfig.root_key_sentinel (RFC 8509)
    "tcp-upstream", "do-udp",  # no UDP upstream: assemble(tcp_upstream=)
    "udp-upstream-without-downstream",  # do-udp: no keeps UDP upstream

    "prefer-ip4", "prefer-ip6",  # that family's servers first: assemble(prefer_family=)
    "harden-unverified-glue",  # RecursorConfig.harden_unverified_glue
    "do-nat64",  # IPv4 servers asked at their NAT64 addresses (RecursorConfig.nat64_prefix)
)

NOREC = {"allow": "refuse", "allow_snoop": "snoop", "allow_setrd": "recurse"}
"""Unbound's access-control actions that let the client in, with what a query without RD
gets: "allow" refuses it ("nonrecursive queries are refused"), "allow_snoop" answers it
from the cache (a referral to the closest known servers when the answer is not cached),
"allow_setrd" treats it as recursive."""

VALIDATOR_NUMBERS = {"val-sig-skew-min": "sig_skew_min", "val-sig-skew-max": "sig_skew_max",
            "val-max-restart": "max_restarts"}
"""Unbound's signature clock-skew bounds and its validator's restart count, as
DnssecConfig fields of the same meaning (whole numbers)."""

TTL_BOUNDS = {
    "cache-min-ttl": "cache_min_ttl",
    "cache-max-ttl": "cache_max_ttl",
    "cache-max-negative-ttl": "cache_max_negative_ttl",
    "cache-min-negative-ttl": "cache_min_negative_ttl",
}
"""Unbound's TTL bounds, as the candidate's RecursorConfig fields of the same meaning."""

ITERATOR_NUMBERS = {"max-query-restarts": "max_query_restarts", "iter-scrub-ns": "scrub_ns",
                    "iter-scrub-cname": "scrub_cname", "max-global-quota": "max_global_quota"}
"""Unbound's iterator limits (whole numbers, at least 1), as RecursorConfig fields of the
same meaning; carried with the TTL bounds (both are RecursorConfig numbers)."""

SERVE_EXPIRED: dict[str, tuple[str, type]] = {
    "serve-expired": ("serve_expired", bool),
    "serve-expired-ttl": ("serve_expired_ttl", int),
    "serve-expired-ttl-reset": ("serve_expired_ttl_reset", bool),
    "serve-expired-reply-ttl": ("serve_expired_reply_ttl", int),
    "serve-expired-client-timeout": ("serve_expired_client_timeout", int),
    "ede-serve-expired": ("serve_expired_ede", bool),
    "serve-original-ttl": ("serve_original_ttl", bool),
}
"""Unbound's serve-expired family (unbound.conf(5); RFC 8767) as the RecursorConfig fields of
the same meaning; absent, Unbound 1.23's defaults (the fields' own).  ``ede-serve-expired``
counts only with ``ede: yes``, as Unbound attaches EDE 3 only then.  ``serve-original-ttl``
(answers carry the TTL the data came with) sits here too."""

FAKE_ALGORITHMS = {"fake-sha1": frozenset({3, 5, 6, 7}), "fake-dsa": frozenset({3, 6})}
"""Unbound's test options that accept signatures of these algorithms without the
cryptographic check (DSA, RSASHA1 and their NSEC3 aliases); Unbound's testdata signs with
placeholder DSA signatures that only pass that way.  The candidate's validator has the same
switch (``DnssecConfig.unchecked_algorithms``)."""


# --- local zones (resolver.localzone): local-zone, local-data, local-data-ptr, views ---
LOCAL_KEYS = ("local-zone", "local-data", "local-data-ptr", "unblock-lan-zones",
              "insecure-lan-zones", "access-control-view")
"""Unbound's local zone options, translated into :class:`resolver.localzone.LocalConfig`
(the resolver answers them before its cache; unbound.conf(5) local-zone).  Unbound's default
local zones are on for every testbound scenario, as in Unbound.  A ``view:`` clause (``name``,
``local-zone``, ``local-data``, ``local-data-ptr``, ``view-first``) is a
:class:`resolver.localzone.LocalView` of the clients its ``access-control-view`` names."""


@dataclass
class _LocalParts:
    """The local-zone options of the server clause, or of one view clause."""

    zones: list[tuple[str, str]] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    ptrs: list[str] = field(default_factory=list)
    name: str = ""  # a view's
    first: bool = False  # a view's view-first
    networks: list[str] = field(default_factory=list)  # a view's access-control-view

    def config(self, *, defaults: bool = True, unblock_lan: bool = False,
               views: tuple[localzone.LocalView, ...] = ()) -> localzone.LocalConfig:
        return localzone.LocalConfig(tuple(self.zones), tuple(self.data), tuple(self.ptrs),
                                     defaults, unblock_lan, views)


def _local(reader: _Reader, parts: _LocalParts, lineno: int, key: str, value: str) -> None:
    """One local-zone option of the ``server:`` or a ``view:`` clause, checked now (an error
    names the line)."""
    text = value[1:-1].strip() if len(value) >= 2 and value[0] == value[-1] == "'" else value
    try:
        if key == "local-zone":
            name, kind = localzone.parse_zone(text)
            parts.zones.append((name.to_text(), kind))
        elif key == "local-data":
            localzone.parse_record(text)
            parts.data.append(text)
        elif key == "local-data-ptr":
            localzone.parse_ptr(text)
            parts.ptrs.append(text)
        elif key == "unblock-lan-zones":
            reader.unblock_lan = reader.boolean(lineno, key, text)
        elif key == "access-control-view":
            net, _, view = text.partition(" ")
            if not view.strip():
                raise localzone.LocalZoneError(f"{text!r}: not 'NETBLOCK VIEW'")
            reader.view_nets.append((lineno, net, unquote(view)))
        elif reader.boolean(lineno, key, text):  # insecure-lan-zones: not validated
            reader.insecure.extend(dns.name.from_text(n) for n, _ in AS112_ZONES)
    except localzone.LocalZoneError as e:
        raise reader.error(lineno, f"{key}: {e}") from None


def _view_option(reader: _Reader, lineno: int, key: str, value: str) -> None:
    view = reader.views[-1]
    if key == "name":
        view.name = value
    elif key == "view-first":
        view.first = reader.boolean(lineno, key, value)
    elif key in ("local-zone", "local-data", "local-data-ptr"):
        _local(reader, view, lineno, key, value)
    else:
        reader.unsupport(f"view {key}")


def _local_config(reader: _Reader) -> localzone.LocalConfig:
    views = {v.name: v for v in reader.views}
    for lineno, net, name in reader.view_nets:
        if name not in views:
            raise reader.error(lineno, f"access-control-view: no view called {name!r}")
        views[name].networks.append(net)
    config = reader.local.config(unblock_lan=reader.unblock_lan, views=tuple(
        localzone.LocalView(v.name, v.config(defaults=False), v.first, tuple(v.networks))
        for v in reader.views))
    try:
        config.build()
    except localzone.LocalZoneError as e:
        raise ScenarioError(reader.path, 0, f"local zones: {e}") from None
    return config
# --- end of local zones ---


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.clause = ""
        self.unsupported: list[str] = []
        self.anchors: list[Record] = []
        self.anchor_files: list[tuple[int, str, str]] = []  # (line, key, path)
        self.insecure: list[dns.name.Name] = []
        self.date: float | None = None
        self.qmin: bool = True  # Unbound's default
        self.switches: dict[str, bool] = {}
        self.validate = True
        self.unchecked: frozenset[int] = frozenset()
        self.ignore_dates = False
        self.bogus_ttl: int | None = None  # val-bogus-ttl
        self.do_not_query: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.validator_numbers: dict[str, int] = {}  # val-sig-skew-min / -max, val-max-restart
        self.nsec3_keysize: tuple[tuple[int, int], ...] = ()  # per-size NSEC3 limits
        self.norec = "refuse"  # the client's access-control: allow (Unbound's default)
        self.ttl_bounds: dict[str, int] = {}
        self.stale: dict[str, int | bool] = {}  # SERVE_EXPIRED, by RecursorConfig field
        self.ede = False  # ede: (ede-serve-expired needs it)
        self.zones: list[dict[str, list[tuple[int, str]]]] = []  # stub-zone / forward-zone clauses
        self.zone_kinds: list[str] = []
        self.local = _LocalParts()  # local-zone, ... (resolver.localzone)
        self.views: list[_LocalParts] = []  # view: clauses
        self.view_nets: list[tuple[int, str, str]] = []  # access-control-view
        self.unblock_lan = False
        self.private_networks: list[str] = []  # private-address
        self.private_domains: list[dns.name.Name] = []  # private-domain
        self.root_prime = False  # stub-prime of the root stub zone
        self.root_tcp = False  # stub/forward-tcp-upstream of the root zone
        self.root_no_cache = False  # forward-no-cache of the root forward zone
        self.caps_exempt: list[dns.name.Name] = []  # caps-exempt / caps-whitelist
        self.edns_buffer_size = 1232  # edns-buffer-size (Unbound's default)
        self.max_udp_size = 1232  # max-udp-size (Unbound's default)
        self.nat64_prefixes: dict[str, ipaddress.IPv6Network] = {}  # nat64-/dns64-prefix

    def error(self, line: int, problem: str) -> ScenarioError:
        return ScenarioError(self.path, line, problem)

    def unsupport(self, what: str) -> None:
        if what not in self.unsupported:
            self.unsupported.append(what)

    def boolean(self, line: int, key: str, value: str) -> bool:
        v = value.lower()
        if v in _YES:
            return True
        if v in _NO:
            return False
        raise self.error(line, f"{key}: {value!r} is neither yes nor no")

    def line(self, lineno: int, raw: str) -> None:
        if raw.lstrip().startswith(";"):
            return
        text = strip_comment(raw, "#").strip()
        if not text:
            return
        word = text.split()[0]
        if word in TESTBOUND_WORDS:
            self.unsupport(word)
            return
        m = _CLAUSE_LINE.match(text)
        if m is None:
            raise self.error(lineno, f"not an unbound.conf 'key: value' line: {text!r}")
        key, value = m.group(1), m.group(2).strip()
        if key in CLAUSES and (not value or _CLAUSE_LINE.match(value)):
            self.clause = key
            if key in ("stub-zone", "forward-zone"):
                self.zones.append({})
                self.zone_kinds.append(key)
            elif key == "view":
                self.views.append(_LocalParts())
            elif key != "server":
                self.unsupport(f"{key}:")
            if value:  # "server: verbosity: 1" on one line
                self.line(lineno, value)
            return
        value = unquote(value)
        if key in ("include", "include-toplevel"):  # anywhere, a file's text in its place
            self.unsupport(key)
            return
        if not self.clause:
            raise self.error(lineno, f"{key}: appears before any clause (server: ...)")
        if self.clause == "server":
            self.server(lineno, key, value)
        elif self.clause in ("stub-zone", "forward-zone"):
            self.zones[-1].setdefault(key, []).append((lineno, value))
        elif self.clause == "view":
            _view_option(self, lineno, key, value)
        # options of unsupported clauses are covered by the clause's own entry

    def server(self, lineno: int, key: str, value: str) -> None:
        if key == "qname-minimisation":
            self.qmin = self.boolean(lineno, key, value)
        elif key in anchorfiles.ANCHOR_KEYS:  # read in parse_unbound_conf (deckard/anchorfiles)
            self.anchor_files.append((lineno, key, value))
        elif key == "trust-anchor":
            try:
                rr = parse_record(strip_comment(value, ";"))
            except RecordError as e:
                raise self.error(lineno, f"trust-anchor: {e}") from None
            if rr.rdtype not in (dns.rdatatype.DS, dns.rdatatype.DNSKEY):
                raise self.error(lineno, "trust-anchor: must be a DS or DNSKEY record")
            self.anchors.append(rr)
        elif key == "val-override-date":
            if value in ("0", ""):
                self.date = None
            elif _DATE.match(value):
                try:
                    moment = time.strptime(value, "%Y%m%d%H%M%S")
                except ValueError:  # 14 digits, but month 18 or the like (found by fuzzing)
                    raise self.error(lineno, f"val-override-date: {value!r} is not a date "
                                             "(YYYYMMDDHHMMSS)") from None
                self.date = float(calendar.timegm(moment))
            elif value == "-1":
                # Unbound: "-1 ignores the date altogether" (signature validity windows)
                self.date, self.ignore_dates = None, True
            else:
                raise self.error(lineno, f"val-override-date: {value!r} is not YYYYMMDDHHMMSS")
        elif key == "domain-insecure":
            try:
                self.insecure.append(dns.name.from_text(value, origin=dns.name.root))
            except dns.exception.DNSException as e:
                raise self.error(lineno, f"domain-insecure: {value!r}: {e}") from None
        elif key in TTL_BOUNDS:
            if not value.isdigit():
                raise self.error(lineno, f"{key}: {value!r} is not a number of seconds")
            self.ttl_bounds[TTL_BOUNDS[key]] = int(value)
        elif key in ITERATOR_NUMBERS:
            if not value.isdigit() or int(value) == 0:
                raise self.error(lineno, f"{key}: {value!r} is not a positive number")
            self.ttl_bounds[ITERATOR_NUMBERS[key]] = int(value)
        elif key in SERVE_EXPIRED:
            field, kind = SERVE_EXPIRED[key]
            if kind is bool:
                self.stale[field] = self.boolean(lineno, key, value)
            elif value.isdigit():
                self.stale[field] = int(value)
            else:
                raise self.error(lineno, f"{key}: {value!r} is not a whole number >= 0")
        elif key == "ede":
            self.ede = self.boolean(lineno, key, value)  # else a no-op (NO_OPS)
        elif key == "do-not-query-address":
            try:
                self.do_not_query.append(ipaddress.ip_network(value, strict=False))
            except ValueError:
                raise self.error(lineno, f"{key}: {value!r} is not an address or netblock") \
                    from None
        elif key == "val-nsec3-keysize-iterations":
            self.nsec3_iterations(lineno, key, value)
        elif key in VALIDATOR_NUMBERS:
            if not value.isdigit():
                raise self.error(lineno, f"{key}: {value!r} is not a whole number")
            self.validator_numbers[VALIDATOR_NUMBERS[key]] = int(value)
        elif key == "val-bogus-ttl":
            if not value.isdigit():
                raise self.error(lineno, f"{key}: {value!r} is not a number of seconds")
            self.bogus_ttl = int(value)
        elif key == "private-address":
            try:
                network(value)
            except PrivateAddressError as e:
                raise self.error(lineno, f"{key}: {e}") from None
            self.private_networks.append(value)
        elif key == "private-domain":
            self.private_domains.append(self.name(lineno, key, value))
        elif key == "edns-buffer-size":  # advertised upstream: Conductor(edns_payload=)
            if not value.isdigit() or not 512 <= int(value) <= 65535:
                raise self.error(lineno, f"{key}: {value!r} is not a size of 512-65535 bytes")
            self.edns_buffer_size = int(value)
        elif key == "max-udp-size":  # the largest UDP reply to a client
            if not value.isdigit() or not 512 <= int(value) <= 65536:
                raise self.error(lineno, f"{key}: {value!r} is not a size of 512-65536 bytes")
            self.max_udp_size = min(int(value), 65535)
        elif key in ("nat64-prefix", "dns64-prefix"):  # do-nat64's prefix (either, nat64 first)
            try:
                self.nat64_prefixes[key] = nat64_prefix(value)
            except ValueError as e:
                raise self.error(lineno, f"{key}: {e}") from None
        elif key in ("caps-exempt", "caps-whitelist"):  # no 0x20 at or below: Conductor
            self.caps_exempt.append(self.name(lineno, key, value))
        elif key in FAKE_ALGORITHMS:
            if self.boolean(lineno, key, value):
                self.unchecked |= FAKE_ALGORITHMS[key]
        elif key in BOOLEAN_TRANSLATED:
            self.switches[key] = self.boolean(lineno, key, value)
        elif key == "module-config":
            modules = value.split()
            if modules == ["iterator"]:
                self.validate = False
            elif modules != ["validator", "iterator"]:
                self.unsupport(f"module-config: {value}")
        elif key == "access-control":
            action = value.split()[-1] if value.split() else ""
            if action not in NOREC:
                self.unsupport(f"access-control: {action}")
            else:
                self.norec = NOREC[action]
        elif key in LOCAL_KEYS:
            _local(self, self.local, lineno, key, value)
        elif key in NO_OPS:
            return
        elif key in AS_THE_CANDIDATE_DOES:
            values, _ = AS_THE_CANDIDATE_DOES[key]
            if value.lower() not in values:
                self.unsupport(f"{key}: {value}")
        else:
            self.unsupport(key)

    def nsec3_iterations(self, lineno: int, key: str, value: str) -> None:
        """Unbound's "<keysize> <iterations>" pairs (or one number, any key size): NSEC3
        with more iterations than the limit is insecure.  One limit for every size is
        ``nsec3_max_iterations``; limits that differ by key size go to
        ``nsec3_keysize_iterations`` (the signing zone's smallest key picks one,
        ``resolver.dnssec.limits.Limits.for_keys``)."""
        words = value.split()
        if not words or not all(w.isdigit() for w in words):
            raise self.error(lineno, f"{key}: {value!r} is not numbers")
        if len(words) == 1:
            self.validator_numbers["nsec3_max_iterations"] = int(words[0])
            return
        if len(words) % 2:
            raise self.error(lineno, f"{key}: {value!r} is not <keysize> <iterations> pairs")
        pairs = [(int(a), int(b)) for a, b in zip(words[::2], words[1::2], strict=True)]
        if [size for size, _ in pairs] != sorted(size for size, _ in pairs):
            raise self.error(lineno, f"{key}: {value!r}: key sizes must ascend")
        if len({it for _, it in pairs}) == 1:
            self.validator_numbers["nsec3_max_iterations"] = pairs[0][1]
        else:
            self.nsec3_keysize = tuple(pairs)

    def name(self, lineno: int, key: str, text: str) -> dns.name.Name:
        try:
            return dns.name.from_text(text, origin=dns.name.root)
        except dns.exception.DNSException as e:
            raise self.error(lineno, f"{key}: {text!r}: {e}") from None

    def configured_zone(self, kind: str, name: dns.name.Name,
                        zone: dict[str, list[tuple[int, str]]]) -> ConfiguredZone | None:
        """One stub-zone or forward-zone clause as the recursor's ConfiguredZone (None,
        and the option counted unsupported, when one of its options cannot be honoured)."""
        prefix = "stub" if kind == "stub-zone" else "forward"
        addresses: list[str] = []
        hosts: list[dns.name.Name] = []
        first = prime = tcp = no_cache = False
        supported = True
        for key, values in zone.items():
            if key == "name":
                continue
            if key == f"{prefix}-addr":
                for lineno, v in values:
                    if "#" in v:
                        self.unsupport(f"{key} with a TLS name")
                        supported = False
                        continue
                    try:  # ip or ip@port (unbound.conf(5): "append '@' with the port")
                        addresses.append(normal_server(v))
                    except ValueError:
                        raise self.error(lineno, f"{key}: {v!r} is not an IP address "
                                         "(with an optional @port)") from None
            elif key == f"{prefix}-host":
                hosts.extend(self.name(lineno, key, v) for lineno, v in values)
            elif key == f"{prefix}-first":
                first = all(self.boolean(lineno, key, v) for lineno, v in values)
            elif key == f"{prefix}-tcp-upstream":
                # unbound.conf(5): TCP only "regardless of global flag tcp-upstream"
                tcp = all(self.boolean(lineno, key, v) for lineno, v in values)
            elif key == "forward-no-cache" and kind == "forward-zone":
                # unbound.conf(5): "data inside the forward is not cached"
                no_cache = all(self.boolean(lineno, key, v) for lineno, v in values)
            elif key == "stub-prime" and kind == "stub-zone":
                # NS set priming (unbound.conf(5)): the zone's published servers serve it
                prime = all(self.boolean(lineno, key, v) for lineno, v in values)
            elif key in (f"{prefix}-prime", f"{prefix}-no-cache", f"{prefix}-tls-upstream",
                         f"{prefix}-ssl-upstream") and all(
                    x.lower() in _NO for _, x in values):
                continue  # the defaults: caching, no TLS
            else:
                self.unsupport(f"{kind} {key}")
                supported = False
        if not supported:
            return None
        return ConfiguredZone(name, kind == "forward-zone", tuple(addresses), tuple(hosts),
                              first, prime, tcp, no_cache)

    def finish(self) -> ScenarioConfig:
        stub_addrs: list[str] = []
        forwards: list[str] = []
        forward_hosts: list[dns.name.Name] = []
        zones: list[ConfiguredZone] = []
        for kind, zone in zip(self.zone_kinds, self.zones, strict=True):
            names = zone.get("name", [])
            if len(names) != 1:
                self.unsupport(f"{kind} without exactly one name")
                continue
            lineno, text = names[0]
            name = self.name(lineno, "name", text)
            configured = self.configured_zone(kind, name, zone)
            if configured is None:
                continue
            if name != dns.name.root:
                zones.append(configured)
                continue
            self.root_tcp |= configured.tcp
            if configured.forward:
                self.root_no_cache |= configured.no_cache
                forwards.extend(configured.addresses)
                forward_hosts.extend(configured.hosts)
            elif configured.hosts:
                self.unsupport("stub-zone . with stub-host (root hints by name)")
            else:
                stub_addrs.extend(configured.addresses)
                self.root_prime = configured.prime
        if not self.zones:
            self.unsupport("no root stub-zone or forward-zone (built-in root hints)")
        validation = ValidationConfig(
            tuple(self.anchors) if self.validate else (), tuple(self.insecure), self.date,
            self.unchecked, self.ignore_dates,
            harden_dnssec_stripped=self.switches.get("harden-dnssec-stripped", True),
            bogus_ttl=self.bogus_ttl,
            permissive=self.switches.get("val-permissive-mode", False),
            ignore_cd=self.switches.get("ignore-cd-flag", False),
            aggressive_nsec=self.switches.get("aggressive-nsec", True),
            clean_additional=self.switches.get("val-clean-additional", True),
            harden_algo_downgrade=self.switches.get("harden-algo-downgrade", False),
            root_key_sentinel=self.switches.get("root-key-sentinel", True),
            dnssec_numbers=tuple(sorted(self.validator_numbers.items())),
            nsec3_keysize_iterations=self.nsec3_keysize,
        )
        return ScenarioConfig(
            stub_addr=stub_addrs[0] if stub_addrs else None,
            stub_addrs=tuple(stub_addrs),
            qmin=self.qmin,
            validation=validation,
            do_ip4=self.switches.get("do-ip4", True),
            do_ip6=self.switches.get("do-ip6", True),
            harden_glue=self.switches.get("harden-glue", True),
            harden_unverified_glue=self.switches.get("harden-unverified-glue", False),
            # absent: yes, the default of the Unbound the testdata are written for (1.24.1
            # on; its scenarios that need the old behaviour say "no")
            scrub_promiscuous=self.switches.get("iter-scrub-promiscuous", True),
            do_not_query_localhost=self.switches.get("do-not-query-localhost", True),
            forward_addrs=tuple(forwards),
            forward_hosts=tuple(forward_hosts),
            zones=tuple(zones),
            norec=self.norec,
            harden_referral_path=self.switches.get("harden-referral-path", False),
            prefetch=self.switches.get("prefetch", False),
            qmin_strict=self.switches.get("qname-minimisation-strict", False),
            deny_any=self.switches.get("deny-any", False),
            harden_below_nxdomain=self.switches.get("harden-below-nxdomain", True),
            dnssec_lame_check=not self.switches.get("disable-dnssec-lame-check", False),
            use_0x20=self.switches.get("use-caps-for-id", False),
            do_not_query=tuple(self.do_not_query),
            # do-udp: no means no UDP upstream either, unless udp-upstream-without-downstream
            # ("Enable udp upstream even if do-udp is no", unbound.conf(5))
            tcp_upstream=self.switches.get("tcp-upstream", False)
            or not (self.switches.get("do-udp", True)
                    or self.switches.get("udp-upstream-without-downstream", False)),
            caps_exempt=tuple(self.caps_exempt), edns_buffer_size=self.edns_buffer_size,
            max_udp_size=self.max_udp_size,
            prefer_family=6 if self.switches.get("prefer-ip6") else
            4 if self.switches.get("prefer-ip4") else None,
            nat64_prefix=(self.nat64_prefixes.get("nat64-prefix")
                          or self.nat64_prefixes.get("dns64-prefix") or DEFAULT_NAT64_PREFIX)
            if self.switches.get("do-nat64", False) else None,
            # absent: no, as testbound plays Unbound (its scenarios without the option expect
            # the zone's NS RRset and addresses beside a positive answer: val_positive_wc)
            minimal_responses=self.switches.get("minimal-responses", False),
            ttl_bounds=tuple(sorted(self.ttl_bounds.items())),
            local=_local_config(self),
            stale=tuple(sorted({**self.stale, "serve_expired_ede": bool(
                self.stale.get("serve_expired_ede")) and self.ede}.items())),
            private=PrivateAddresses(tuple(map(network, self.private_networks)),
                                     tuple(self.private_domains)),
            root_stub_prime=self.root_prime,
            root_tcp=self.root_tcp,
            root_no_cache=self.root_no_cache,
            dialect="testbound",
            unsupported=tuple(self.unsupported),
        )


def is_unbound_conf(lines: Iterable[tuple[int, str]]) -> bool:
    """Whether a header is an unbound.conf fragment: some line is a clause (``server:``,
    ``stub-zone:``, ...) on its own, or a testbound header word."""
    for _, raw in lines:
        if raw.lstrip().startswith(";"):
            continue
        text = strip_comment(raw, "#").strip()
        if not text:
            continue
        if text.split()[0] in TESTBOUND_WORDS:
            return True
        m = _CLAUSE_LINE.match(text)
        if m is not None and m.group(1) in CLAUSES and not m.group(2):
            return True
    return False


def parse_unbound_conf(path: Path, lines: Iterable[tuple[int, str]]) -> ScenarioConfig:
    """Translate a testbound header (numbered lines before ``CONFIG_END``)."""
    reader = _Reader(path)
    try:
        conf, files = anchorfiles.split_tempfiles(lines)
    except anchorfiles.AnchorFileError as e:
        raise reader.error(e.line, str(e)) from None
    for lineno, raw in conf:
        reader.line(lineno, raw)
    for lineno, key, value in reader.anchor_files:
        try:
            reader.anchors.extend(anchorfiles.read_anchors(key, value, files))
        except anchorfiles.AnchorFileError as e:
            raise reader.error(e.line or lineno, f"{key}: {e}") from None
        except ValueError:
            reader.unsupport(f"{key}: not a testbound temporary file")
    return reader.finish()
