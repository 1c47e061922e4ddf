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
parser sees the file).  testbound header words (``COMMANDLINE``, ``AUTOTRUST_FILE``,
``TEMPFILE_NAME``, ...) are unsupported.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Iterable
from pathlib import Path

import dns.exception
import dns.name
import dns.rdatatype

from deckard.header import ScenarioConfig, ValidationConfig
from deckard.records import Record, RecordError, parse_record
from deckard.text import ScenarioError, strip_comment, unquote
from resolver.model import normal_server
from resolver.recursor import ConfiguredZone
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
_DATE = re.compile(r"^\d{14}$")
_YES = {"yes", "on", "true", "1"}
_NO = {"no", "off", "false", "0"}

NO_OPS: dict[str, str] = {
    # logging and statistics: what Unbound writes to its log, never what it answers
    **dict.fromkeys(
        "verbosity logfile use-syslog log-time-ascii log-queries log-replies log-servfail "
        "log-local-actions log-tag-queryreply log-identity log-destaddr val-log-level "
        "statistics-interval statistics-cumulative extended-statistics use-systemd "
        "ede ede-serve-expired".split(),
        "logging and statistics only: the answers are the same",
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
    "target-fetch-policy": (
        "how many NS targets Unbound resolves ahead of need; the candidate resolves a "
        "target when it needs its address.  Prefetching adds upstream queries, it does not "
        "change the client's answer"
    ),
    "rrset-roundrobin": (
        "the order of records inside an RRset: RR order is not compared by the matcher "
        "(Deckard's rule, applied to both dialects)"
    ),
}
"""Options that cannot change the answers a scenario checks, with the reason."""

AS_THE_CANDIDATE_DOES: dict[str, tuple[frozenset[str], str]] = {
    "trust-anchor-signaling": (
        frozenset({"no"}),
        "the candidate sends no RFC 8145 key-tag queries",
    ),
    "root-key-sentinel": (
        frozenset({"no"}),
        "the candidate has no RFC 8509 root-key sentinel",
    ),
    "prefetch-key": (frozenset({"no"}), "the candidate does not prefetch DNSKEYs"),
    "serve-expired": (frozenset({"no"}), "the candidate never serves expired records"),
    "aggressive-nsec": (
        frozenset({"yes"}),
        "the candidate uses validated NSEC/NSEC3 aggressively (RFC 8198)",
    ),
    "harden-below-nxdomain": (
        frozenset({"yes"}),
        "the candidate treats an NXDOMAIN as covering the names below it (RFC 8020)",
    ),
    "val-sig-skew-min": (frozenset({"3600"}), "the candidate's signature skew floor (1 h)"),
    "val-sig-skew-max": (frozenset({"86400"}), "the candidate's signature skew cap (1 day)"),
    "val-nsec3-keysize-iterations": (
        frozenset({"150", "1024 150 2048 150 4096 150"}),
        "NSEC3 with more than 150 iterations is insecure for the candidate, whatever the key",
    ),
    "val-max-restart": (frozenset({"5"}), "the candidate fetches bad DNSSEC data again 5 times"),
    "val-permissive-mode": (frozenset({"no"}), "a bogus answer is SERVFAIL for the candidate"),
    "ignore-cd-flag": (frozenset({"no"}), "the candidate honours a client's CD bit"),
    "serve-original-ttl": (frozenset({"no"}), "the candidate's TTLs count down in the cache"),
    "ratelimit": (frozenset({"0"}), "the candidate limits no query rate"),
    "ip-ratelimit": (frozenset({"0"}), "the candidate limits no client's rate"),
    "disable-dnssec-lame-check": (
        frozenset({"yes"}), "the candidate has no DNSSEC-lameness check of servers",
    ),
    "harden-algo-downgrade": (
        frozenset({"no"}), "any supported algorithm of a zone's DS set may validate it",
    ),
    "deny-any": (frozenset({"no"}), "the candidate answers qtype ANY"),
    "do-tcp": (frozenset({"yes"}), "the candidate retries over TCP on truncation"),
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
)

NOREC = {"allow": "refuse", "allow_snoop": "snoop", "allow_setrd": "recurse"}
"""Unbound's access-control actions that let the client in, with what a query without RD
gets: "allow" refuses it ("nonrecursive queries are refused"), "allow_snoop" answers it
from the cache (a referral to the closest known servers when the answer is not cached),
"allow_setrd" treats it as recursive."""

TTL_BOUNDS = {
    "cache-min-ttl": "cache_min_ttl",
    "cache-max-ttl": "cache_max_ttl",
    "cache-max-negative-ttl": "cache_max_negative_ttl",
}
"""Unbound's TTL bounds, as the candidate's RecursorConfig fields of the same meaning."""

FAKE_ALGORITHMS = {"fake-sha1": frozenset({3, 5, 6, 7}), "fake-dsa": frozenset({3, 6})}
"""Unbound's test options that accept signatures of these algorithms without the
cryptographic check (DSA, RSASHA1 and their NSEC3 aliases); Unbound's testdata signs with
placeholder DSA signatures that only pass that way.  The candidate's validator has the same
switch (``DnssecConfig.unchecked_algorithms``)."""


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.clause = ""
        self.unsupported: list[str] = []
        self.anchors: list[Record] = []
        self.insecure: list[dns.name.Name] = []
        self.date: float | None = None
        self.qmin: bool = True  # Unbound's default
        self.switches: dict[str, bool] = {}
        self.validate = True
        self.unchecked: frozenset[int] = frozenset()
        self.ignore_dates = False
        self.bogus_ttl: int | None = None  # val-bogus-ttl
        self.norec = "refuse"  # the client's access-control: allow (Unbound's default)
        self.ttl_bounds: dict[str, int] = {}
        self.zones: list[dict[str, list[tuple[int, str]]]] = []  # stub-zone / forward-zone clauses
        self.zone_kinds: list[str] = []
        self.private_networks: list[str] = []  # private-address
        self.private_domains: list[dns.name.Name] = []  # private-domain
        self.root_prime = False  # stub-prime of the root stub zone
        self.tcp_upstream = False  # tcp-upstream: yes or do-udp: no
        self.root_tcp = False  # stub/forward-tcp-upstream of the root zone

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
            elif key != "server":
                self.unsupport(f"{key}:")
            if value:  # "server: verbosity: 1" on one line
                self.line(lineno, value)
            return
        value = unquote(value)
        if not self.clause:
            raise self.error(lineno, f"{key}: appears before any clause (server: ...)")
        if self.clause == "server":
            self.server(lineno, key, value)
        elif self.clause in ("stub-zone", "forward-zone"):
            self.zones[-1].setdefault(key, []).append((lineno, value))
        # options of unsupported clauses are covered by the clause's own entry

    def server(self, lineno: int, key: str, value: str) -> None:
        if key == "qname-minimisation":
            self.qmin = self.boolean(lineno, key, value)
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
                self.date = float(calendar.timegm(time.strptime(value, "%Y%m%d%H%M%S")))
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
        elif key == "tcp-upstream":
            self.tcp_upstream |= self.boolean(lineno, key, value)
        elif key == "do-udp":  # no: no UDP query is issued, so upstream goes over TCP
            self.tcp_upstream |= not self.boolean(lineno, key, value)
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
        elif key in NO_OPS:
            return
        elif key in AS_THE_CANDIDATE_DOES:
            values, _ = AS_THE_CANDIDATE_DOES[key]
            if value.lower() not in values:
                self.unsupport(f"{key}: {value}")
        else:
            self.unsupport(key)

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
        first = prime = tcp = False
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
                              first, prime, tcp)

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
        )
        return ScenarioConfig(
            stub_addr=stub_addrs[0] if stub_addrs else None,
            stub_addrs=tuple(stub_addrs),
            qmin=self.qmin,
            validation=validation,
            do_ip4=self.switches.get("do-ip4", True),
            do_ip6=self.switches.get("do-ip6", True),
            harden_glue=self.switches.get("harden-glue", True),
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
            # absent: no, as testbound plays Unbound (its scenarios without the option expect
            # the zone's NS RRset and addresses beside a positive answer: val_positive_wc)
            minimal_responses=self.switches.get("minimal-responses", False),
            ttl_bounds=tuple(sorted(self.ttl_bounds.items())),
            private=PrivateAddresses(tuple(map(network, self.private_networks)),
                                     tuple(self.private_domains)),
            root_stub_prime=self.root_prime,
            tcp_upstream=self.tcp_upstream,
            root_tcp=self.root_tcp,
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
    for lineno, raw in lines:
        reader.line(lineno, raw)
    return reader.finish()
