"""Lab zones: authoritative data built from a world definition, signed, with denial chains.

:func:`build_zones` turns a :class:`~lab.world.WorldDef` into :class:`LabZone` objects: SOA and
apex NS, delegations (NS, DS by the child's ``ds`` mode) and glue in parents, server address
records wherever a server's name falls inside a zone, NSEC or NSEC3 (optionally opt-out)
chains, and RRSIGs from :mod:`lab.signer`.

:meth:`LabZone.lookup` answers one question as an authoritative server would (RFC 1034
§4.3.2 with the DNSSEC additions of RFC 4035 §3.1 and RFC 5155 §7.2): answers, in-zone CNAME
chasing, DNAME substitution, wildcards, referrals, NXDOMAIN and NODATA with their proofs.
It takes an :class:`AnswerContext` (the querier's region, the time, a random generator) so
that noise names can vary their data per answer.
"""

from __future__ import annotations

import base64
import bisect
import ipaddress
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import dns.dnssec
import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.NSEC
import dns.rdtypes.ANY.NSEC3
import dns.rdtypes.ANY.NSEC3PARAM
import dns.rdtypes.ANY.SOA
import dns.rdtypes.util
import dns.rrset
import dns.zone

from lab.signer import ZoneSigner, generate_private_key
from lab.world import NoiseDef, WorldDef, WorldError, ZoneDef

IN = dns.rdataclass.IN
T = dns.rdatatype
NEGATIVE_TTL = 300
MAX_CNAME_HOPS = 8


@dataclass
class AnswerContext:
    """What an answer may depend on besides the question: the querier's region and
    address, the answering server's id (of the world), the time and a random generator."""

    region: str
    now: float
    rng: random.Random = field(default_factory=random.Random)
    source: str = ""
    server: str = ""


@dataclass
class Answer:
    rcode: int = dns.rcode.NOERROR
    aa: bool = True
    answer: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    additional: list[dns.rrset.RRset] = field(default_factory=list)


class LabZone:
    """One zone's data, cuts, signatures and denial chain."""

    def __init__(self, spec: ZoneDef, signer: ZoneSigner | None) -> None:
        self.spec = spec
        self.origin = spec.origin
        self.signer = signer
        self.nodes: dict[dns.name.Name, dict[int, dns.rrset.RRset]] = {}
        self.cuts: dict[dns.name.Name, ZoneDef] = {}
        self.sigs: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
        self.noise: dict[tuple[dns.name.Name, int], NoiseDef] = {
            (n.owner, n.rdtype): n for n in spec.noise
        }
        self._noise_sigs: dict[tuple[dns.name.Name, int, frozenset[str]], dns.rrset.RRset] = {}
        self.existing: set[dns.name.Name] = set()
        self.nsec_owners: list[dns.name.Name] = []
        self.nsec3: list[tuple[bytes, dns.name.Name]] = []
        self.nsec3_by_hash: dict[bytes, dns.name.Name] = {}

    # -- building -------------------------------------------------------------------------

    def add(self, rrset: dns.rrset.RRset) -> None:
        node = self.nodes.setdefault(rrset.name, {})
        have = node.get(rrset.rdtype)
        if have is None:
            node[rrset.rdtype] = rrset
        else:
            have.update(rrset)

    def add_text(self, owner: dns.name.Name, ttl: int, rdtype: int, *texts: str) -> None:
        rrset = dns.rrset.from_text(owner, ttl, IN, dns.rdatatype.RdataType(rdtype), *texts)
        self.add(rrset)

    @property
    def signed(self) -> bool:
        return self.signer is not None

    @property
    def varies(self) -> bool:
        """Whether two answers to the same question may differ (noise, online signing)."""
        return bool(self.noise) or (self.signer is not None and self.signer.spec.online)

    @property
    def serves_signatures(self) -> bool:
        return self.signer is not None and self.signer.spec.mode != "stripped"

    def below_cut(self, name: dns.name.Name) -> dns.name.Name | None:
        """The delegation point at or above ``name`` inside this zone, if any."""
        n = name
        while n != self.origin and n.is_subdomain(self.origin):
            if n in self.cuts:
                return n
            n = n.parent()
        return None

    def finish(self) -> None:
        """Compute existence, denial chain and signatures once all data is in."""
        self.existing = {self.origin}
        for owner in self.nodes:
            cut = self.below_cut(owner)
            if cut is not None and cut != owner:
                continue  # occluded (glue)
            n = owner
            while n != self.origin and n not in self.existing:
                self.existing.add(n)
                n = n.parent()
        if self.signer is None:
            return
        denial = self.signer.spec.denial
        if denial == "nsec":
            self._build_nsec()
        else:
            self._build_nsec3(opt_out=denial == "nsec3_optout")
        for owner, node in list(self.nodes.items()):
            cut = self.below_cut(owner)
            for rdtype, rrset in node.items():
                if (owner, rdtype) in self.sigs:
                    continue  # NSEC3 records are signed as the chain is built
                if cut is None or (cut == owner and rdtype in (T.DS, T.NSEC)):
                    self.sigs[(owner, rdtype)] = self.signer.sign(rrset)
                # delegation NS and glue stay unsigned

    def _types_at(self, owner: dns.name.Name) -> list[int]:
        return sorted(self.nodes.get(owner, {}))

    def _build_nsec(self) -> None:
        owners = sorted(n for n in self.existing if n in self.nodes)
        for i, owner in enumerate(owners):
            nxt = owners[(i + 1) % len(owners)]
            types = set(self._types_at(owner)) | {T.NSEC, T.RRSIG}
            bitmap = dns.rdtypes.util.Bitmap.from_rdtypes(
                [dns.rdatatype.RdataType(t) for t in sorted(types)]
            )
            rd = dns.rdtypes.ANY.NSEC.NSEC(IN, T.NSEC, nxt, bitmap.windows)
            self.add(dns.rrset.from_rdata(owner, NEGATIVE_TTL, rd))
        self.nsec_owners = owners

    def nsec3_hash(self, name: dns.name.Name) -> bytes:
        assert self.signer is not None
        spec = self.signer.spec
        text = dns.dnssec.nsec3_hash(name, spec.nsec3_salt, spec.nsec3_iterations, 1)
        return base64.b32hexdecode(text)

    def _nsec3_owner(self, digest: bytes) -> dns.name.Name:
        label = base64.b32hexencode(digest).decode().lower()
        return dns.name.Name((label.encode(),) + self.origin.labels)

    def _build_nsec3(self, opt_out: bool) -> None:
        assert self.signer is not None
        spec = self.signer.spec
        hashed: dict[bytes, dns.name.Name] = {}
        for name in self.existing:
            if opt_out and name in self.cuts and T.DS not in self.nodes.get(name, {}):
                continue  # opt-out: insecure delegations get no NSEC3
            hashed[self.nsec3_hash(name)] = name
        order = sorted(hashed)
        flags = 1 if opt_out else 0
        for i, digest in enumerate(order):
            owner = hashed[digest]
            nxt = order[(i + 1) % len(order)]
            types = set(self._types_at(owner))
            if types and not (owner in self.cuts and T.DS not in types):
                types.add(T.RRSIG)
            bitmap = dns.rdtypes.util.Bitmap.from_rdtypes(
                [dns.rdatatype.RdataType(t) for t in sorted(types)]
            )
            rd = dns.rdtypes.ANY.NSEC3.NSEC3(
                IN, T.NSEC3, 1, flags, spec.nsec3_iterations, spec.nsec3_salt, nxt, bitmap.windows
            )
            hashed_owner = self._nsec3_owner(digest)
            rrset = dns.rrset.from_rdata(hashed_owner, NEGATIVE_TTL, rd)
            self.sigs[(hashed_owner, T.NSEC3)] = self.signer.sign(rrset)
            self.nodes.setdefault(hashed_owner, {})[T.NSEC3] = rrset
        self.nsec3 = [(d, self._nsec3_owner(d)) for d in order]
        self.nsec3_by_hash = {d: o for d, o in self.nsec3}

    # -- answering ------------------------------------------------------------------------

    def rrset(self, owner: dns.name.Name, rdtype: int,
              ctx: AnswerContext) -> dns.rrset.RRset | None:
        static = self.nodes.get(owner, {}).get(rdtype)
        noise = self.noise.get((owner, rdtype))
        if noise is not None:
            return _noise_rrset(noise, ctx, static, self.spec.servers)
        return static

    def sigs_for(self, rrset: dns.rrset.RRset,
                 owner: dns.name.Name | None = None) -> dns.rrset.RRset | None:
        """RRSIGs for an RRset of this zone (signed on the fly for noise data).

        ``owner`` is the wildcard an RRset was synthesised from; its signatures are served.
        """
        if not self.serves_signatures:
            return None
        assert self.signer is not None
        source = owner or rrset.name
        static = self.nodes.get(source, {}).get(rrset.rdtype)
        if self.signer.spec.online:
            # An online signer signs each answer: same key, same window, new ECDSA bytes.
            return self.signer.sign(static if source != rrset.name and static else rrset)
        if source != rrset.name or static is rrset:
            return self.sigs.get((source, rrset.rdtype))
        noise = self.noise.get((rrset.name, rrset.rdtype))
        nominal = noise.ttl if noise is not None else rrset.ttl
        key = (rrset.name, rrset.rdtype, frozenset(rd.to_text() for rd in rrset))
        cached = self._noise_sigs.get(key)
        if cached is None:
            if len(self._noise_sigs) > 4096:
                self._noise_sigs.clear()
            # Signed over the nominal TTL (the RRSIG's original TTL); served at the RRset's.
            signed = rrset if rrset.ttl == nominal else _with_ttl(rrset, nominal)
            cached = self._noise_sigs[key] = self.signer.sign(signed)
        return cached if cached.ttl == rrset.ttl else _with_ttl(cached, rrset.ttl)

    def lookup(self, qname: dns.name.Name, qtype: int, do: bool, ctx: AnswerContext) -> Answer:
        ans = Answer()
        seen: set[dns.name.Name] = set()
        name = qname
        for _ in range(MAX_CNAME_HOPS):
            if name in seen:
                return ans  # CNAME loop inside the zone: the chain so far is the answer
            seen.add(name)
            nxt = self._step(ans, name, qtype, do, ctx, first=name == qname)
            if nxt is None:
                return ans
            if not nxt.is_subdomain(self.origin) or self.below_cut(nxt) is not None:
                return ans  # the chain leaves this zone: the resolver follows it
            name = nxt
        return ans

    def _put(self, section: list[dns.rrset.RRset], rrset: dns.rrset.RRset, do: bool,
             sig_owner: dns.name.Name | None = None) -> None:
        if any(r is rrset for r in section):
            return
        section.append(rrset)
        if do:
            sigs = self.sigs_for(rrset, sig_owner)
            if sigs is not None:
                if sig_owner is not None and sig_owner != rrset.name:
                    sigs = _renamed(sigs, rrset.name)
                section.append(sigs)

    def _step(self, ans: Answer, name: dns.name.Name, qtype: int, do: bool,
              ctx: AnswerContext, first: bool) -> dns.name.Name | None:
        """Answer ``name``; return a CNAME/DNAME target to continue with, or None when done."""
        # Delegations and DNAMEs above the name.
        for depth in range(len(self.origin) + 1, len(name) + 1):
            n = name.split(depth)[1]
            if n in self.cuts and not (n == name and qtype == T.DS):
                if first:
                    self._referral(ans, n, do, ctx)
                return None
            dname = self.nodes.get(n, {}).get(T.DNAME)
            if dname is not None and n != name:
                target = name.relativize(n).derelativize(dname[0].target)
                self._put(ans.answer, dname, do)
                cname = dns.rrset.from_text(name, dname.ttl, IN, T.CNAME, target.to_text())
                ans.answer.append(cname)
                return target
        if name in self.existing:
            node = self.nodes.get(name, {})
            if qtype == T.ANY and node:
                for rdtype in node:
                    self._put(ans.answer, self.rrset(name, rdtype, ctx) or node[rdtype], do)
                return None
            rrset = self.rrset(name, qtype, ctx)
            if rrset is not None:
                self._put(ans.answer, rrset, do)
                if qtype == T.NS:
                    self._addresses(ans, rrset, glue_ok=True)
                return None
            cname_rrset = self.rrset(name, T.CNAME, ctx)
            if cname_rrset is not None:
                cname = cname_rrset
                self._put(ans.answer, cname, do)
                return dns.name.Name(cname[0].target.labels)
            self._negative(ans, do, ctx)
            if do and self.signed:
                self._nodata_proof(ans, name)
            return None
        # The name does not exist: a wildcard at the closest encloser may synthesise it.
        ce = self.closest_encloser(name)
        wild = dns.name.Name((b"*",) + ce.labels)
        if wild in self.existing:
            node = self.nodes.get(wild, {})
            for rdtype in (qtype, T.CNAME):
                rrset = node.get(rdtype)
                if rrset is not None:
                    synth = dns.rrset.RRset(name, IN, rrset.rdtype)
                    synth.update(rrset)
                    self._put(ans.answer, synth, do, sig_owner=wild)
                    if do and self.signed:
                        self._wildcard_proof(ans, name, ce)
                    return dns.name.Name(rrset[0].target.labels) if rdtype == T.CNAME else None
            self._negative(ans, do, ctx)
            if do and self.signed:
                if self._uses_nsec():
                    self._wildcard_proof(ans, name, ce)
                else:
                    self._closest_encloser_proof(ans, name, ce)
                self._nodata_proof(ans, wild)
            return None
        ans.rcode = dns.rcode.NXDOMAIN
        self._negative(ans, do, ctx)
        if do and self.signed:
            self._nxdomain_proof(ans, name, ce)
        return None

    def closest_encloser(self, name: dns.name.Name) -> dns.name.Name:
        n = name
        while n != self.origin and n not in self.existing:
            n = n.parent()
        return n

    def _negative(self, ans: Answer, do: bool, ctx: AnswerContext) -> None:
        soa = self.rrset(self.origin, T.SOA, ctx)
        assert soa is not None
        self._put(ans.authority, soa, do)

    def _referral(self, ans: Answer, cut: dns.name.Name, do: bool, ctx: AnswerContext) -> None:
        ans.aa = False
        node = self.nodes[cut]
        ns = node[T.NS]
        ans.authority.append(ns)
        if do and self.signed:
            ds = node.get(T.DS)
            if ds is not None:
                self._put(ans.authority, ds, do)
            else:
                self._nodata_proof(ans, cut)
        self._addresses(ans, ns, glue_ok=self.cuts[cut].glue)

    def _addresses(self, ans: Answer, ns: dns.rrset.RRset, glue_ok: bool) -> None:
        if not glue_ok:
            return
        for rd in ns:
            target = rd.target
            for rdtype in (T.A, T.AAAA):
                rrset = self.nodes.get(target, {}).get(rdtype)
                if rrset is not None and rrset not in ans.additional:
                    ans.additional.append(rrset)

    # -- denial of existence ----------------------------------------------------------------

    def _nsec_at(self, owner: dns.name.Name) -> dns.rrset.RRset:
        return self.nodes[owner][T.NSEC]

    def _nsec_covering(self, name: dns.name.Name) -> dns.rrset.RRset:
        i = bisect.bisect_right(self.nsec_owners, name) - 1
        return self._nsec_at(self.nsec_owners[i])  # i == -1 wraps to the last NSEC

    def _nsec3_rrset(self, owner: dns.name.Name) -> dns.rrset.RRset:
        return self.nodes[owner][T.NSEC3]

    def _nsec3_match(self, name: dns.name.Name) -> dns.rrset.RRset | None:
        owner = self.nsec3_by_hash.get(self.nsec3_hash(name))
        return None if owner is None else self._nsec3_rrset(owner)

    def _nsec3_cover(self, name: dns.name.Name) -> dns.rrset.RRset:
        digest = self.nsec3_hash(name)
        i = bisect.bisect_left(self.nsec3, (digest, dns.name.root)) - 1
        return self._nsec3_rrset(self.nsec3[i][1])

    def _uses_nsec(self) -> bool:
        return self.signer is not None and self.signer.spec.denial == "nsec"

    def _nodata_proof(self, ans: Answer, name: dns.name.Name) -> None:
        if self._uses_nsec():
            if name in self.nodes and T.NSEC in self.nodes[name]:
                self._put(ans.authority, self._nsec_at(name), True)
            else:  # empty non-terminal: the NSEC before it covers it
                self._put(ans.authority, self._nsec_covering(name), True)
            return
        match = self._nsec3_match(name)
        if match is not None:
            self._put(ans.authority, match, True)
            return
        # Opt-out: prove the closest provable encloser and cover the next closer name.
        n = name.parent()
        while n != self.origin and self._nsec3_match(n) is None:
            n = n.parent()
        self._closest_encloser_proof(ans, name, n)

    def _closest_encloser_proof(self, ans: Answer, name: dns.name.Name,
                                ce: dns.name.Name) -> None:
        match = self._nsec3_match(ce)
        if match is not None:
            self._put(ans.authority, match, True)
        next_closer = name.split(len(ce) + 1)[1]
        self._put(ans.authority, self._nsec3_cover(next_closer), True)

    def _nxdomain_proof(self, ans: Answer, name: dns.name.Name, ce: dns.name.Name) -> None:
        wild = dns.name.Name((b"*",) + ce.labels)
        if self._uses_nsec():
            self._put(ans.authority, self._nsec_covering(name), True)
            self._put(ans.authority, self._nsec_covering(wild), True)
            return
        self._closest_encloser_proof(ans, name, ce)
        self._put(ans.authority, self._nsec3_cover(wild), True)

    def _wildcard_proof(self, ans: Answer, name: dns.name.Name, ce: dns.name.Name) -> None:
        if self._uses_nsec():
            self._put(ans.authority, self._nsec_covering(name), True)
            return
        next_closer = name.split(len(ce) + 1)[1]
        self._put(ans.authority, self._nsec3_cover(next_closer), True)


def _renamed(sigs: dns.rrset.RRset, owner: dns.name.Name) -> dns.rrset.RRset:
    out = dns.rrset.RRset(owner, sigs.rdclass, sigs.rdtype, sigs.covers)
    out.update(sigs)
    return out


def _with_ttl(rrset: dns.rrset.RRset, ttl: int) -> dns.rrset.RRset:
    out = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype, rrset.covers)
    out.update(rrset)
    out.ttl = ttl
    return out


def _noise_rrset(noise: NoiseDef, ctx: AnswerContext, static: dns.rrset.RRset | None,
                 servers: tuple[str, ...]) -> dns.rrset.RRset:
    """The data of a noise name for one answer (see :data:`lab.world.NOISE_KINDS`)."""
    ttl = noise.ttl
    if noise.kind == "rotate":
        values = list(noise.values)
        ctx.rng.shuffle(values)
    elif noise.kind == "pool":
        values = ctx.rng.sample(list(noise.values), noise.pick)
    elif noise.kind == "lb":  # a load balancer: 1..pick healthy members, a varying count
        values = ctx.rng.sample(list(noise.values), ctx.rng.randint(1, noise.pick))
    elif noise.kind == "server_ttl":  # the same data, a TTL set per server (CDN edges)
        values = list(noise.values)
        i = servers.index(ctx.server) if ctx.server in servers else 0
        ttl = noise.ttls[i % len(noise.ttls)]
    elif noise.kind == "geo":
        values = list(noise.by_region.get(ctx.region) or noise.by_region["default"])
    elif noise.kind == "whoami":  # the querier's own address, as whoami services answer
        values = [_whoami(noise.rdtype, ctx.source)]
    elif noise.kind == "nonce":  # a fresh token per answer
        values = [f'"{ctx.rng.getrandbits(64):016x}"']
    elif noise.kind == "instance":  # which server of the NS set answered (anycast/NSID)
        i = servers.index(ctx.server) if ctx.server in servers else 0
        values = [noise.values[i % len(noise.values)]]
    elif noise.kind == "jitter":  # the same data under a TTL that varies per answer
        values = list(noise.values)
        ttl -= ctx.rng.randint(0, noise.spread)
    elif noise.kind == "serial":  # the zone's SOA, its serial counting up with time
        assert static is not None
        soa = static[0]
        serial = (soa.serial + int(ctx.now // noise.period)) % 2**32
        values = [soa.replace(serial=serial).to_text()]
    else:  # flap
        values = [noise.values[int(ctx.now // noise.period) % len(noise.values)]]
    return dns.rrset.from_text(noise.owner, ttl, IN, noise.rdtype, *values)


def _whoami(rdtype: int, source: str) -> str:
    try:
        address = ipaddress.ip_address(source)
    except ValueError:
        address = ipaddress.ip_address("0.0.0.0")
    if rdtype == T.A:
        return str(address) if address.version == 4 else "0.0.0.0"
    return f'"{address}"'


# -- world assembly -----------------------------------------------------------------------------


def _static_noise_data(noise: NoiseDef) -> tuple[str, ...]:
    """The data a noise name has in the zone (for its NSEC bitmap and type lookups);
    none for a serial (the zone's own SOA is there already)."""
    if noise.kind == "geo":
        return noise.by_region["default"]
    if noise.kind == "whoami":
        return ("0.0.0.0",) if noise.rdtype == T.A else ('"0.0.0.0"',)
    if noise.kind == "nonce":
        return ('"0"',)
    if noise.kind == "serial":
        return ()
    return noise.values


def _parent_zone(origin: dns.name.Name, zones: Mapping[dns.name.Name, LabZone]) -> LabZone | None:
    n = origin
    while n != dns.name.root:
        n = n.parent()
        if n in zones:
            return zones[n]
    return None


def build_zones(world: WorldDef, now: int | None = None) -> dict[dns.name.Name, LabZone]:
    """Build, delegate, sign and chain every zone of the world."""
    zones: dict[dns.name.Name, LabZone] = {}
    for spec in sorted(world.zones, key=lambda z: len(z.origin)):
        signer = ZoneSigner.create(spec.origin, spec.signing, now) if spec.signing else None
        zone = LabZone(spec, signer)
        zones[spec.origin] = zone
        key = f"zones.{spec.origin.to_text()}.records"
        try:
            parsed = dns.zone.from_text(
                spec.records or "", origin=spec.origin, relativize=False, check_origin=False
            )
        except (dns.exception.DNSException, ValueError) as e:
            raise WorldError(world.source, key, f"bad record: {e}") from e
        for owner, node in parsed.nodes.items():
            for rds in node.rdatasets:
                rrset = dns.rrset.RRset(owner, IN, rds.rdtype, rds.covers)
                rrset.update(rds)
                rrset.ttl = rds.ttl or spec.ttl
                zone.add(rrset)
        ns_names = [world.servers[s].name for s in spec.servers]
        hostmaster = dns.name.Name((b"hostmaster",) + spec.origin.labels)
        zone.add_text(spec.origin, spec.ttl, T.SOA,
                      f"{ns_names[0]} {hostmaster} 1 7200 3600 1209600 {NEGATIVE_TTL}")
        zone.add_text(spec.origin, spec.ttl, T.NS, *[n.to_text() for n in ns_names])
        if signer is not None:
            keys = dns.rrset.RRset(spec.origin, IN, T.DNSKEY)
            for k in signer.dnskeys:
                keys.add(k, spec.ttl)
            zone.add(keys)
        for noise in spec.noise:
            if not noise.owner.is_subdomain(spec.origin):
                raise WorldError(world.source, f"zones.{spec.origin}.noise.{noise.owner}",
                                 "noise name outside its zone")
            default = _static_noise_data(noise)
            if default:
                zone.add(dns.rrset.from_text(noise.owner, noise.ttl, IN, noise.rdtype,
                                             *default))
        parent = _parent_zone(spec.origin, zones)
        if parent is not None:
            parent.cuts[spec.origin] = spec
            parent.add_text(spec.origin, spec.ttl, T.NS, *[n.to_text() for n in ns_names])
            if signer is not None and spec.ds != "none":
                if spec.ds == "match":
                    ds = signer.ds()
                else:  # a DS for a key the child never publishes
                    stray = generate_private_key(spec.signing.algorithm)  # type: ignore[union-attr]
                    stray_key = dns.dnssec.make_dnskey(stray.public_key(), signer.spec.algorithm,
                                                       257)
                    ds = dns.dnssec.make_ds(spec.origin, stray_key, "SHA256")
                parent.add(dns.rrset.from_rdata(spec.origin, spec.ttl, ds))
    for zone in zones.values():
        for server in world.servers.values():
            if server.name.is_subdomain(zone.origin) and not server.phantom:
                zone.add_text(server.name, zone.spec.ttl, T.A, server.address)
    for zone in zones.values():
        zone.finish()
    return zones


def trust_anchor_ds(zones: Mapping[dns.name.Name, LabZone]) -> list[str]:
    root = zones[dns.name.root]
    if root.signer is None:
        return []
    return [f". {root.spec.ttl} IN DS {root.signer.ds().to_text()}"]


def zones_for(names: Iterable[str], zones: Mapping[dns.name.Name, LabZone]) -> list[LabZone]:
    return [zones[dns.name.from_text(n)] for n in names]
