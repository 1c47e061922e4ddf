"""The resolvers a query is sent to: the candidate and the references.

A :class:`Target` answers one :class:`~harness.records.Query` with a
:class:`~harness.records.TargetAnswer` (wire, latency, error) and never raises for a failed
exchange.  Three kinds:

* :class:`InProcessTarget` -- the candidate (``resolver``) in this process, driven exactly as
  ``shadowdns resolver serve`` drives it (the same workers render the reply), without sockets;
* :class:`AddressTarget` -- any resolver at an address (IPv4 or IPv6), optionally backed by a
  ``legacy_adapter`` :class:`~legacy_adapter.Reference` that the harness starts, stops and
  flushes (Unbound, kresd);
* anything else with the same shape (tests use fakes).
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype

from harness.exchange import DEFAULT_DOH_PATH, ExchangeError, make_exchange, set_flags
from harness.exchange import Transport as AskedOver
from harness.recording import RecordingExchanger, RecordingTransport
from harness.records import ExchangeLog, Query, TargetAnswer
from legacy_adapter import Reference
from resolver.app import ResolverAnswerer, build, ip6_enabled, trust_anchors
from resolver.conductor import NetworkTransport, Transport
from resolver.config import ResolverConfig
from resolver.frames import FrameQueue
from resolver.model import Frame
from resolver.plugins import PluginChain
from resolver.wasm import load_plugins
from resolver.workers import Workers

__all__ = ["AddressTarget", "InProcessTarget", "Target", "query_wire"]


class Target(Protocol):
    """A resolver the dispatcher asks."""

    @property
    def name(self) -> str: ...

    @property
    def timeout(self) -> float: ...

    @property
    def can_flush(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def version(self) -> str: ...

    async def ask(self, query: Query, *, cd: bool | None = None) -> TargetAnswer:
        """The target's answer (``cd`` overrides the client's CD bit); never raises."""
        ...

    async def flush(self, name: str) -> None:
        """Forget what is cached at and below ``name`` (or everything, where that is all
        the target can do)."""
        ...


def query_wire(query: Query) -> bytes:
    """The client's packet, or one built from the query's fields where there was none."""
    if query.wire is not None:
        return query.wire
    message = dns.message.make_query(
        query.qname, dns.rdatatype.RdataType.make(query.qtype),
        dns.rdataclass.RdataClass.make(query.qclass), use_edns=query.edns_payload is not None,
        payload=query.edns_payload or 1232, want_dnssec=query.do)
    message.flags = ((dns.flags.RD if query.rd else 0) | (dns.flags.CD if query.cd else 0)
                     | (dns.flags.AD if query.ad else 0))
    return message.to_wire()


class AddressTarget:
    """A resolver at ``address:port``, asked over ``transport`` (udp, tcp, dot or doh);
    ``reference`` (if given) is started, stopped and flushed with it."""

    def __init__(self, name: str, address: str, port: int, *, timeout: float = 5.0,
                 reference: Reference | None = None, transport: AskedOver = "udp",
                 doh_path: str = DEFAULT_DOH_PATH) -> None:
        self._name = name
        self._timeout = timeout
        self.address = address
        self.port = port
        self.reference = reference
        self.transport = transport
        self.exchange = make_exchange(transport, address, port, doh_path=doh_path)

    @property
    def name(self) -> str:
        return self._name

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def can_flush(self) -> bool:
        return self.reference is not None and self.reference.can_flush

    async def start(self) -> None:
        """Start the reference (if managed) with an empty cache -- a cache kept in its
        workdir from an earlier run would hold keys of an earlier lab -- and open the socket."""
        if self.reference is not None:
            await self.reference.start()
            if self.reference.can_flush:
                await self.reference.flush_all()
        await self.exchange.open()

    async def stop(self) -> None:
        self.exchange.close()
        if self.reference is not None:
            await self.reference.stop()

    async def version(self) -> str:
        version = getattr(self.reference, "version", None)
        if version is None:
            return f"{self.address}:{self.port}"
        try:
            return str(await version())
        except Exception as e:  # noqa: BLE001 - a version is informative only
            return f"unknown ({e})"

    async def ask(self, query: Query, *, cd: bool | None = None) -> TargetAnswer:
        wire = set_flags(query_wire(query), cd=cd)
        start = time.monotonic()
        try:
            reply = await self.exchange.query(wire, self._timeout, tcp=query.tcp)
        except TimeoutError:
            return TargetAnswer(self._name, None, time.monotonic() - start, "timeout")
        except ExchangeError as e:
            return TargetAnswer(self._name, None, time.monotonic() - start, str(e))
        except OSError as e:
            return TargetAnswer(self._name, None, time.monotonic() - start,
                                f"network: {e.strerror or e}")
        return TargetAnswer(self._name, reply, (now := time.monotonic()) - start, received=now)

    async def flush(self, name: str) -> None:
        if self.reference is None or not self.reference.can_flush:
            raise RuntimeError(f"{self._name} cannot be flushed (not managed by shadowdns)")
        await self.reference.flush_name(name)


class InProcessTarget:
    """The candidate resolver in this process: the server's workers without its sockets.

    With ``record`` (the default) its network transport is wrapped in a
    :class:`~harness.recording.RecordingTransport`: the pipeline then gets the upstream
    exchanges of every sampled query (see :mod:`harness.recording`).
    """

    def __init__(self, name: str, config: ResolverConfig, *, timeout: float = 5.0,
                 answerer: ResolverAnswerer | None = None, record: bool = True,
                 transport: Transport | None = None) -> None:
        """``transport`` replaces the network (tests); ``answerer`` the whole resolver."""
        self._name = name
        self._timeout = timeout
        self.config = config
        self.recording = record and answerer is None
        self.recorder: RecordingTransport | None = None
        if answerer is None:
            if transport is None:
                transport = NetworkTransport(port=config.upstream_port, source=config.egress)
            if record:
                transport = self.recorder = RecordingTransport(transport)
            answerer = build(config, transport=transport)
        if self.recording:
            answerer.exchanger = RecordingExchanger(answerer.exchanger)
        self.answerer = answerer
        # the candidate's plugins (candidate.plugins): a plugin set in shadow against a
        # reference running another set (docs/PLUGINS.md)
        self.plugins = load_plugins(config.plugins)
        self.workers = Workers(FrameQueue(), self.answerer, PluginChain(self.plugins), n=1,
                               deadline=timeout)

    @property
    def name(self) -> str:
        return self._name

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def can_flush(self) -> bool:
        return True

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def version(self) -> str:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as package_version

        try:
            return f"shadowdns resolver {package_version('shadowdns')} (in process)"
        except PackageNotFoundError:
            return "shadowdns resolver (in process)"

    def with_context(self, log: ExchangeLog, qname: str) -> ExchangeLog:
        """``log`` preceded by the earlier exchanges its answer may rest on through the
        cache (:meth:`~harness.recording.RecordingTransport.context`)."""
        if self.recorder is None:
            return log
        context = self.recorder.context(log, qname)
        if not context:
            return log
        out = ExchangeLog(max_bytes=log.max_bytes + sum(x.size for x in context),
                          dropped=log.dropped)
        for x in (*context, *log.items):
            out.add(x)
        return out

    def setup(self) -> dict[str, object]:
        """What a replay needs to configure the candidate as it ran (stored with the run):
        root hints, QNAME minimisation, address families, validation and trust anchors."""
        anchors = trust_anchors(self.config)
        records = [f"{zone.to_text()} IN DS {ds.to_text()}"
                   for zone, dss in sorted(anchors.ds.items()) for ds in dss]
        records += [f"{zone.to_text()} IN DNSKEY {key.to_text()}"
                    for zone, keys in sorted(anchors.dnskey.items()) for key in keys]
        return {
            "root_hints": [list(h) for h in self.config.root_hints],
            "qname_minimisation": self.config.qname_minimisation,
            "qmin_qtype": self.config.qmin_qtype,
            "do_ip6": ip6_enabled(self.config),
            "validation": bool(anchors),
            "trust_anchors": records,
            "negative_trust_anchors": sorted(n.to_text() for n in anchors.negative),
            "upstream_port": self.config.upstream_port,
            "plugins": [{"name": p.name, "sha256": p.sha256, "policy": p.policy.value,
                         "arg": p.arg.decode()} for p in self.plugins],
        }

    async def ask(self, query: Query, *, cd: bool | None = None) -> TargetAnswer:
        wire = set_flags(query_wire(query), cd=cd)
        client = (query.client or "127.0.0.1", query.client_port or 0)
        start = time.monotonic()
        try:
            async with asyncio.timeout(self._timeout):
                frame = (Frame(wire, "tcp", client, start) if query.tcp
                         else Frame(wire, "udp", client, start))
                reply = await self.workers.handle(frame)
                if (not query.tcp and reply is not None and len(reply) > 2
                        and reply[2] & 0x02):
                    reply = await self.workers.handle(
                        Frame(wire, "tcp", client, time.monotonic()))
        except TimeoutError:
            return TargetAnswer(self._name, None, time.monotonic() - start, "timeout")
        if reply is None:
            return TargetAnswer(self._name, None, time.monotonic() - start, "no reply")
        return TargetAnswer(self._name, reply, (now := time.monotonic()) - start, received=now)

    async def flush(self, name: str) -> None:
        """Forget what the candidate has cached at ``name``, as ``flush_name`` does for the
        references (validated NSEC records and server knowledge stay, as in Unbound)."""
        self.answerer.recursor.flush_name(dns.name.from_text(name))
