"""Plugin hook points: plain Python objects called at four places on a query's way.

::

    worker ── pre_cache ──> cache ── post_cache ──> (miss) ── pre_upstream ──> recursor
       ^                                                                           |
       └──────────────────────────── post_resolve <────────────────────────────────┘

* ``pre_cache(request, query)`` — before the cache is asked.  Return a reply to answer
  the client with it (blocklists, local data, rate limits); ``None`` to go on.
* ``post_cache(request, query, cached)`` — after the cache lookup; ``cached`` is the cached
  reply or ``None`` on a miss.  Return a reply to answer with it instead; ``None`` to go on.
* ``pre_upstream(request, query)`` — on a miss, before the recursor asks any server.
  Return a reply to answer with it; ``None`` to go on.
* ``post_resolve(request, query, reply)`` — on every reply the worker is about to send
  (from the answerer or from a short-circuit).  Return the reply, or a replacement.

The worker (:mod:`resolver.workers`) calls ``pre_cache`` and ``post_resolve`` itself.  The
cache sits inside the answerer, so ``post_cache`` and ``pre_upstream`` are placed by what
the answerer does: the worker hands it an :class:`UpstreamGate` (in ``request.extra``), and
the answerer sends upstream through :func:`gated`, which opens the gate before the first
upstream query.  Opening it means the query missed the cache: ``post_cache(.., None)``, then
``pre_upstream``; either may answer, which stops the recursion (:class:`PluginAnswer`).  If
the answer came without any upstream query it came from the cache, and the worker calls
``post_cache`` with it.  An answerer that never uses the gate is a cache in this sense.
Hooks are synchronous and must not block: a plugin that needs I/O does it elsewhere and
consults its results here.

A plugin names the phases it takes part in (:attr:`Plugin.phases`); a WebAssembly plugin
(:mod:`resolver.wasm`) exports them.

A hook that raises never takes the worker down: :class:`PluginChain` catches the exception,
logs it, counts it (``stats["<plugin>.<hook>"]`` and ``stats["errors"]``), skips the rest
of the chain and returns a SERVFAIL reply for the query, which the caller treats like any
other short-circuit.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Iterable

import dns.message
import dns.rcode

from resolver.model import Request
from resolver.recursor.exchanger import Exchanger, UpstreamQuery, UpstreamResult

__all__ = ["PHASES", "Plugin", "PluginAnswer", "PluginChain", "copy_reply", "servfail_for"]

PHASES = ("pre_cache", "post_cache", "pre_upstream", "post_resolve")
"""The hook points, in the order a query meets them."""

SEES_EVERY_QUERY = ("pre_cache", "post_cache", "post_resolve")
"""Phases that see cache hits too: with one of them enabled the bytes fast path is off."""

log = logging.getLogger("shadowdns.resolver.plugins")


class Plugin:
    """Base class: every hook passes the query through unchanged.  Override what you need."""

    @property
    def name(self) -> str:
        """How the plugin is named in logs and counters (its class name by default)."""
        return type(self).__name__

    @property
    def phases(self) -> tuple[str, ...]:
        """The hooks this plugin takes part in (by default: those its class overrides)."""
        return tuple(p for p in PHASES if _overrides(self, p))

    def pre_cache(self, request: Request,
                  query: dns.message.Message) -> dns.message.Message | None:
        return None

    def post_cache(self, request: Request, query: dns.message.Message,
                   cached: dns.message.Message | None) -> dns.message.Message | None:
        return None

    def pre_upstream(self, request: Request,
                     query: dns.message.Message) -> dns.message.Message | None:
        return None

    def post_resolve(self, request: Request, query: dns.message.Message,
                     reply: dns.message.Message) -> dns.message.Message:
        return reply


class PluginAnswer(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised through the answerer by :class:`UpstreamGate` when ``post_cache`` (on a miss)
    or ``pre_upstream`` answers: the recursion stops before any upstream query."""

    def __init__(self, reply: dns.message.Message) -> None:
        super().__init__("a plugin answered before upstream")
        self.reply = reply


class UpstreamGate:
    """What the answerer calls before its first upstream query for a client query (see
    :class:`GatedExchanger`): that query was a cache miss, so ``post_cache`` runs with no
    cached reply, then ``pre_upstream``; either may answer (:class:`PluginAnswer`).  After
    the answer, :attr:`missed` says whether the answer came from the cache alone."""

    __slots__ = ("chain", "missed", "query", "request")

    def __init__(self, chain: PluginChain, request: Request,
                 query: dns.message.Message) -> None:
        self.chain = chain
        self.request = request
        self.query = query
        self.missed = False

    def before_upstream(self) -> None:
        if self.missed:
            return
        self.missed = True
        reply = self.chain.post_cache(self.request, self.query, None)
        if reply is None:
            reply = self.chain.pre_upstream(self.request, self.query)
        if reply is not None:
            raise PluginAnswer(reply)


GATE_KEY = "upstream_gate"
"""The :class:`Request` ``extra`` key under which the worker hands the answerer its gate."""


class GatedExchanger:
    """An exchanger that opens the gate before its first exchange (see :class:`UpstreamGate`)."""

    def __init__(self, inner: Exchanger, gate: UpstreamGate) -> None:
        self.inner = inner
        self.gate = gate

    async def exchange(self, query: UpstreamQuery) -> UpstreamResult:
        self.gate.before_upstream()
        return await self.inner.exchange(query)


def gated(exchanger: Exchanger, request: Request) -> Exchanger:
    """``exchanger`` behind the request's gate, if the worker gave it one."""
    gate = request.extra.get(GATE_KEY)
    return GatedExchanger(exchanger, gate) if isinstance(gate, UpstreamGate) else exchanger


def copy_reply(reply: dns.message.Message) -> dns.message.Message:
    """A reply whose sections and options can be changed without touching ``reply``'s
    (which may be cached).  RRsets are shared: copy one before changing it."""
    out = dns.message.Message(id=reply.id)
    out.flags = reply.flags
    out.question = list(reply.question)
    out.answer = list(reply.answer)
    out.authority = list(reply.authority)
    out.additional = list(reply.additional)
    if reply.edns >= 0:
        out.use_edns(reply.edns, reply.ednsflags, reply.payload, options=list(reply.options))
    out.set_rcode(reply.rcode())
    return out


def servfail_for(query: dns.message.Message) -> dns.message.Message:
    """A SERVFAIL reply to ``query`` (question copied, EDNS kept if the query had it)."""
    reply = dns.message.make_response(query, recursion_available=True)
    reply.set_rcode(dns.rcode.SERVFAIL)
    return reply


def _checked(reply: object) -> dns.message.Message | None:
    """A hook's result, or :class:`TypeError` when it is neither a message nor ``None``."""
    if reply is None or isinstance(reply, dns.message.Message):
        return reply
    raise TypeError(f"a hook returned {type(reply).__name__}, not a DNS message")


def _overrides(plugin: Plugin, hook: str) -> bool:
    return getattr(type(plugin), hook) is not getattr(Plugin, hook)


class PluginChain:
    """Plugins in order; each hook method calls that hook of every plugin that defines it.

    For ``pre_cache``, ``post_cache`` and ``pre_upstream`` the first plugin returning a
    reply wins and the rest are skipped.  ``post_resolve`` threads the reply through every
    plugin.  An empty chain costs one attribute test per hook.
    """

    def __init__(self, plugins: Iterable[Plugin] = ()) -> None:
        self.plugins: tuple[Plugin, ...] = tuple(plugins)
        self.stats: collections.Counter[str] = collections.Counter()
        self._pre_cache = [p for p in self.plugins if "pre_cache" in p.phases]
        self._post_cache = [p for p in self.plugins if "post_cache" in p.phases]
        self._pre_upstream = [p for p in self.plugins if "pre_upstream" in p.phases]
        self._post_resolve = [p for p in self.plugins if "post_resolve" in p.phases]
        # whether the answerer needs an UpstreamGate to place post_cache and pre_upstream
        self.gated = bool(self._post_cache or self._pre_upstream)

    def __len__(self) -> int:
        return len(self.plugins)

    def has(self, phase: str) -> bool:
        """Whether some plugin takes part in ``phase``."""
        return any(phase in p.phases for p in self.plugins)

    @property
    def sees_cache_hits(self) -> bool:
        """Whether some plugin has a phase a cache hit goes through (see
        :data:`SEES_EVERY_QUERY`): then no reply may be served from bytes."""
        return any(self.has(phase) for phase in SEES_EVERY_QUERY)

    def pre_cache(self, request: Request,
                  query: dns.message.Message) -> dns.message.Message | None:
        for plugin in self._pre_cache:
            try:
                reply = _checked(plugin.pre_cache(request, query))
            except Exception:
                return self._failed(plugin, "pre_cache", request, query)
            if reply is not None:
                return reply
        return None

    def post_cache(self, request: Request, query: dns.message.Message,
                   cached: dns.message.Message | None) -> dns.message.Message | None:
        for plugin in self._post_cache:
            try:
                reply = _checked(plugin.post_cache(request, query, cached))
            except Exception:
                return self._failed(plugin, "post_cache", request, query)
            if reply is not None:
                return reply
        return None

    def pre_upstream(self, request: Request,
                     query: dns.message.Message) -> dns.message.Message | None:
        for plugin in self._pre_upstream:
            try:
                reply = _checked(plugin.pre_upstream(request, query))
            except Exception:
                return self._failed(plugin, "pre_upstream", request, query)
            if reply is not None:
                return reply
        return None

    def post_resolve(self, request: Request, query: dns.message.Message,
                     reply: dns.message.Message) -> dns.message.Message:
        for plugin in self._post_resolve:
            try:
                replaced = _checked(plugin.post_resolve(request, query, reply))
                if replaced is None:
                    raise TypeError("post_resolve must return a message, not None")
                reply = replaced
            except Exception:
                return self._failed(plugin, "post_resolve", request, query)
        return reply

    def _failed(self, plugin: Plugin, hook: str, request: Request,
                query: dns.message.Message) -> dns.message.Message:
        self.stats["errors"] += 1
        self.stats[f"{plugin.name}.{hook}"] += 1
        log.warning("plugin %s.%s failed on %s/%s from %s; answering SERVFAIL",
                    plugin.name, hook, request.qname, request.qtype, request.client[0],
                    exc_info=True)
        return servfail_for(query)
