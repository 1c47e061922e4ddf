"""The configuration header of a Deckard scenario (everything before ``CONFIG_END``).

``key: value`` lines, split at the first colon.  Deckard's own reader strips ``#`` comments
but not ``;`` comments after a value, so ``query-minimization: on ; note`` silently means
*off* there; here both ``#`` and ``;`` comments are stripped (outside double quotes), and a
boolean that is neither yes nor no is an error instead of a silent "no".  A line without a
colon is ignored (as Deckard does); an unknown key is an error (Deckard aborts too).

The result is a :class:`ScenarioConfig`: plain data the runner turns into the candidate's
configuration (root hint, QNAME minimisation variants, address families, glue hardening,
forwarding) and keeps for the validator (trust anchors, negative trust anchors, the date).
"""

from __future__ import annotations

import calendar
import dataclasses
import ipaddress
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.name
import dns.rdatatype

from deckard import kresdconf
from deckard.records import Record, RecordError, parse_record
from deckard.text import ScenarioError, strip_comment, unquote
from resolver.kresdmod import KresdModules
from resolver.localzone import LocalConfig
from resolver.recursor import ConfiguredZone
from resolver.recursor.private import PrivateAddresses

DEFAULT_STUB_NAME = dns.name.from_text("k.root-servers.net.")
_YES = {"on", "yes", "true", "1"}
_NO = {"off", "no", "false", "0"}
_DATE = re.compile(r"^\d{14}$")

KRESD_ONLY_KEYS = ("features", "feature-list")
"""Header keys that only Knot Resolver understands (its modules and Lua policies)."""


@dataclass(frozen=True)
class ValidationConfig:
    """What a DNSSEC validator needs from the header (validation itself is issue 4)."""

    trust_anchors: tuple[Record, ...] = ()  # DS or DNSKEY records
    negative_anchors: tuple[dns.name.Name, ...] = ()  # domain-insecure
    date: float | None = None  # val-override-date / -timestamp, POSIX seconds (UTC)
    unchecked_algorithms: frozenset[int] = frozenset()  # testbound's fake-sha1 / fake-dsa
    ignore_dates: bool = False  # testbound's val-override-date: -1 (no validity windows)
    harden_dnssec_stripped: bool = True  # testbound's; off: failing keys make a zone insecure
    bogus_ttl: int | None = None  # testbound's val-bogus-ttl (None: the validator's default)
    permissive: bool = False  # testbound's val-permissive-mode: bogus data passed on, no AD
    ignore_cd: bool = False  # testbound's ignore-cd-flag: CD queries are validated too
    # CD queries validated (secure keeps AD, bogus passed on): Unbound's; the Deckard
    # dialect (Knot Resolver's scenarios) passes them through unvalidated
    validate_cd: bool = True
    aggressive_nsec: bool = True  # testbound's aggressive-nsec (RFC 8198)
    clean_additional: bool = True  # testbound's val-clean-additional
    harden_algo_downgrade: bool = False  # testbound's harden-algo-downgrade
    root_key_sentinel: bool = True  # testbound's root-key-sentinel (RFC 8509)
    # testbound's val-sig-skew-min/-max, val-max-restart: DnssecConfig fields, in order
    dnssec_numbers: tuple[tuple[str, int], ...] = ()
    # testbound's val-nsec3-keysize-iterations when its limits differ by key size
    nsec3_keysize_iterations: tuple[tuple[int, int], ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.trust_anchors)

    def anchors_by_owner(self) -> dict[dns.name.Name, tuple[Record, ...]]:
        grouped: dict[dns.name.Name, list[Record]] = {}
        for rr in self.trust_anchors:
            grouped.setdefault(rr.name, []).append(rr)
        return {k: tuple(v) for k, v in grouped.items()}


@dataclass(frozen=True)
class ScenarioConfig:
    """The header, parsed.  ``qmin`` is None when the scenario runs both variants."""

    stub_addr: str | None = None
    stub_name: dns.name.Name = DEFAULT_STUB_NAME
    qmin: bool | None = None
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    do_ip4: bool = True
    do_ip6: bool = True
    harden_glue: bool = True
    harden_unverified_glue: bool = False  # testbound's harden-unverified-glue
    # Unbound's iter-scrub-promiscuous (testbound): drop NS sets from the authority
    # section of responses that are not referrals
    scrub_promiscuous: bool = False
    do_not_query_localhost: bool = True
    forward_addrs: tuple[str, ...] = ()
    forward_hosts: tuple[dns.name.Name, ...] = ()  # testbound's forward-host (root zone)
    stub_addrs: tuple[str, ...] = ()  # testbound: every stub-addr of the root (stub_addr: first)
    zones: tuple[ConfiguredZone, ...] = ()  # testbound: stub and forward zones below the root
    # testbound: what a query without RD gets (deckard.unboundconf.NOREC); None: resolved
    norec: str | None = None
    harden_referral_path: bool = False  # testbound's
    prefetch: bool = False  # testbound's
    qmin_strict: bool = False  # testbound's qname-minimisation-strict
    deny_any: bool = False  # testbound's deny-any: qtype ANY answered NOTIMP, empty
    harden_below_nxdomain: bool = True  # testbound's: secure NXDOMAINs deny names below
    dnssec_lame_check: bool = True  # testbound's disable-dnssec-lame-check, inverted
    use_0x20: bool = True  # 0x20 case randomisation; testbound's use-caps-for-id (default no)
    tcp_upstream: bool = False  # testbound's tcp-upstream: yes / do-udp: no
    # testbound's do-not-query-address: servers never asked
    do_not_query: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    force_ipv6: bool = False
    features: tuple[tuple[str, str], ...] = ()  # kresd-only knobs, in order
    feature_list: tuple[str, ...] = ()  # kresd-only Lua policy lines
    dialect: str = "deckard"  # or "testbound" (Unbound's testdata, deckard.unboundconf)
    minimal_responses: bool = True  # testbound's minimal-responses
    ttl_bounds: tuple[tuple[str, int], ...] = ()  # testbound's cache-min/max(-negative)-ttl
    # testbound: local-zone/local-data (Unbound's defaults too); None: no local zone
    local: LocalConfig | None = None
    stale: tuple[tuple[str, int | bool], ...] = ()  # testbound's serve-expired family
    private: PrivateAddresses = PrivateAddresses()  # testbound's private-address/-domain
    root_stub_prime: bool = False  # testbound's stub-prime of the root stub zone
    root_tcp: bool = False  # testbound's stub/forward-tcp-upstream of the root zone
    root_no_cache: bool = False  # testbound's forward-no-cache of the root forward zone
    prefer_family: int | None = None  # testbound's prefer-ip4 (4) / prefer-ip6 (6)
    caps_exempt: tuple[dns.name.Name, ...] = ()  # testbound's caps-exempt / caps-whitelist
    edns_buffer_size: int = 1232  # testbound's edns-buffer-size (advertised upstream)
    # the largest UDP reply to a client (testbound's max-udp-size); 0: not limited (Deckard)
    max_udp_size: int = 0
    # testbound's do-nat64 with its nat64-prefix (else dns64-prefix, else 64:ff9b::/96)
    nat64_prefix: ipaddress.IPv6Network | None = None
    kresd: KresdModules | None = None  # kresd's policy/dns64/renumber (deckard.kresdconf)
    unsupported: tuple[str, ...] = ()  # what the candidate cannot honour: the run is skipped

    @property
    def start_time(self) -> float | None:
        return self.validation.date

    @property
    def kresd_only(self) -> tuple[str, ...]:
        """The kresd-only header keys this scenario uses (none for a generic scenario)."""
        used = []
        if self.features:
            used.append("features: " + ", ".join(k for k, _ in self.features))
        if self.feature_list:
            used.append("feature-list")
        return tuple(used)

    def variants(self) -> tuple[bool, ...]:
        """QNAME minimisation settings to run: both when the header does not say."""
        return (True, False) if self.qmin is None else (self.qmin,)


def _bool(path: Path, line: int, key: str, value: str) -> bool:
    v = value.lower()
    if v in _YES:
        return True
    if v in _NO:
        return False
    raise ScenarioError(path, line, f"{key}: {value!r} is neither yes/on/true nor no/off/false")


def address_of(path: Path, line: int, key: str, value: str) -> str:
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        raise ScenarioError(path, line, f"{key}: {value!r} is not an IP address") from None


def _domain(path: Path, line: int, key: str, value: str) -> dns.name.Name:
    try:
        return dns.name.from_text(value, origin=dns.name.root)
    except dns.exception.DNSException as e:
        raise ScenarioError(path, line, f"{key}: {value!r} is not a domain name ({e})") from None


def _features(path: Path, line: int, value: str) -> list[tuple[str, str]]:
    """``k1 = v1; k2 = v2``.  A part without ``=`` starts a comment (``min_ttl = 5 ; why``)."""
    out: list[tuple[str, str]] = []
    for part in value.split(";"):
        if "=" not in part:
            break
        k, _, v = part.partition("=")
        if not k.strip():
            raise ScenarioError(path, line, f"features: {part.strip()!r} has no key")
        out.append((k.strip(), v.strip()))
    if not out:
        raise ScenarioError(path, line, f"features: {value!r} is not 'key = value'")
    return out


def parse_header(path: Path, lines: Iterable[tuple[int, str]]) -> ScenarioConfig:
    """Parse numbered header lines (those before ``CONFIG_END``)."""
    stub_addr: str | None = None
    stub_name = DEFAULT_STUB_NAME
    qmin: bool | None = None
    switches: dict[str, bool] = {}
    anchors: list[Record] = []
    insecure: list[dns.name.Name] = []
    forwards: list[str] = []
    features: dict[str, str] = {}
    feature_list: list[str] = []
    feature_lines: list[tuple[int, str, str]] = []
    list_lines: list[tuple[int, str]] = []
    date: float | None = None
    for lineno, raw in lines:
        if raw.startswith(";"):
            continue
        if raw.split(":", 1)[0].strip() in ("features", "feature-list"):
            text = strip_comment(raw, "#")  # ';' separates features; parsed below
        else:
            text = strip_comment(raw, "#;")
        if ":" not in text:
            continue
        key, _, value = text.partition(":")
        key = key.strip()
        value = unquote(value)
        if not key:
            raise ScenarioError(path, lineno, f"header line {raw.strip()!r} has no key")
        if key == "stub-addr":
            stub_addr = address_of(path, lineno, key, value)
        elif key == "stub-name":
            stub_name = _domain(path, lineno, key, value)
        elif key == "query-minimization":
            qmin = _bool(path, lineno, key, value)  # last occurrence wins
        elif key == "trust-anchor":
            try:
                rr = parse_record(strip_comment(value, ";"))
            except RecordError as e:
                raise ScenarioError(path, lineno, f"trust-anchor: {e}") from None
            if rr.rdtype not in (dns.rdatatype.DS, dns.rdatatype.DNSKEY):
                raise ScenarioError(path, lineno, "trust-anchor: must be a DS or DNSKEY record")
            anchors.append(rr)
        elif key == "val-override-date":
            if not _DATE.match(value):
                raise ScenarioError(path, lineno, f"{key}: {value!r} is not YYYYMMDDHHMMSS")
            try:
                date = float(calendar.timegm(time.strptime(value, "%Y%m%d%H%M%S")))
            except ValueError as e:
                raise ScenarioError(path, lineno, f"{key}: {value!r}: {e}") from None
        elif key == "val-override-timestamp":
            if not value.isdigit():
                raise ScenarioError(path, lineno, f"{key}: {value!r} is not POSIX seconds")
            date = float(value)
        elif key in ("do-ip4", "do-ip6", "harden-glue", "do-not-query-localhost", "force-ipv6"):
            switches[key] = _bool(path, lineno, key, value)
        elif key == "domain-insecure":
            insecure.append(_domain(path, lineno, key, value))
        elif key == "forward-addr":
            forwards.append(address_of(path, lineno, key, value))
        elif key == "features":
            parsed = _features(path, lineno, value)
            features.update(parsed)  # later keys overwrite
            feature_lines += [(lineno, k, v) for k, v in parsed]
        elif key == "feature-list":
            feature_list.append(value)
            list_lines.append((lineno, value))
        else:
            raise ScenarioError(path, lineno, f"unsupported CONFIG key {key!r}")
    validation = ValidationConfig(tuple(anchors), tuple(insecure), date)
    config = ScenarioConfig(
        stub_addr=stub_addr,
        stub_name=stub_name,
        qmin=qmin,
        validation=validation,
        do_ip4=switches.get("do-ip4", True),
        do_ip6=switches.get("do-ip6", True),
        harden_glue=switches.get("harden-glue", True),
        do_not_query_localhost=switches.get("do-not-query-localhost", True),
        forward_addrs=tuple(forwards),
        force_ipv6=switches.get("force-ipv6", False),
        features=tuple(features.items()),
        feature_list=tuple(feature_list),
    )
    if not config.do_ip4 and not config.do_ip6:
        raise ScenarioError(path, 1, "do-ip4 and do-ip6 are both off: nothing to query with")
    if feature_lines or list_lines:
        # the Deckard header has no TTL bounds, zones or unsupported keys of its own
        changes = kresdconf.translate(path, feature_lines, list_lines)
        config = dataclasses.replace(config, **changes)  # type: ignore[arg-type]
    return config
