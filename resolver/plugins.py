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

The worker (:mod:`resolver.workers`) calls ``pre_cache`` and ``post_resolve``; the cache and
the recursor, which run inside the answerer, call ``post_cache`` and ``pre_upstream`` on the
same :class:`PluginChain`.  Hooks are synchronous and must not block: a plugin that needs
I/O does it elsewhere and consults its results here.

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

__all__ = ["Plugin", "PluginChain", "servfail_for"]

log = logging.getLogger("shadowdns.resolver.plugins")


class Plugin:
    """Base class: every hook passes the query through unchanged.  Override what you need."""

    @property
    def name(self) -> str:
        """How the plugin is named in logs and counters (its class name by default)."""
        return type(self).__name__

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
        self._pre_cache = [p for p in self.plugins if _overrides(p, "pre_cache")]
        self._post_cache = [p for p in self.plugins if _overrides(p, "post_cache")]
        self._pre_upstream = [p for p in self.plugins if _overrides(p, "pre_upstream")]
        self._post_resolve = [p for p in self.plugins if _overrides(p, "post_resolve")]

    def __len__(self) -> int:
        return len(self.plugins)

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
