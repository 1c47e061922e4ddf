"""A loaded plugin: its compiled module, its live instance, its bounds and counters.

Bounds, per :class:`Limits`: fuel per phase call (wasmtime's instruction budget: an
infinite loop traps), a cap on the instance's linear memory (``memory.grow`` fails past
it, instantiation fails if the module asks for more), and a wall-time budget per query
over all the plugin's calls (a call that would start after the budget is spent is not
made).  A trap, running out of fuel, reaching the memory cap, a spent budget or a bad
return value is a *failure*: it is counted by kind (:attr:`WasmPlugin.failures`), the
instance is made afresh from the compiled module (its memory freed, its state reset), and
the query goes on as the plugin's :class:`Policy` says: ``open`` as if the plugin were not
there, ``closed`` SERVFAIL with EDE 0 (Other Error) naming the plugin and the failure.
A plugin never raises into the worker.
"""

from __future__ import annotations

import ctypes
import dataclasses
import enum
import hashlib
import time
from collections import Counter

import dns.edns
import dns.message
import wasmtime
from wasmtime import _ffi as ffi  # the raw C API: calls without wasmtime-py's per-call checks

from resolver.model import Request
from resolver.plugins import PHASES, Plugin, servfail_for
from resolver.wasm.abi import ANSWER, CONTINUE, Call, HostCalls, log
from resolver.wasm.runtime import (
    EPOCH_GRACE,
    EPOCH_TICK,
    PluginLoadError,
    check_module,
    compiled,
    engine,
    make_linker,
)


class Policy(enum.Enum):
    """What a failed plugin call means for the query."""

    OPEN = "open"  # as if no plugin
    CLOSED = "closed"  # SERVFAIL with EDE 0 naming the plugin


@dataclasses.dataclass(frozen=True)
class Limits:
    fuel: int = 2_000_000  # wasm instructions (roughly) per phase call
    memory: int = 16 * 1024 * 1024  # bytes of linear memory per instance
    budget: float = 0.005  # seconds of this plugin's calls per query


class WasmPlugin(Plugin):
    """One loaded module: its compiled code, its live instance, its counters."""

    def __init__(self, source: bytes, *, name: str, where: str = "",
                 policy: Policy = Policy.OPEN, limits: Limits | None = None,
                 arg: str = "", version: int = 1) -> None:
        where = where or name
        self._name = name
        self._spent_key = f"wasm.{name}.seconds"  # request.extra: this plugin's time so far
        self.policy = policy
        self.limits = limits or Limits()
        self.arg = arg.encode()
        self.version = version
        self.sha256 = hashlib.sha256(source).hexdigest()
        self.module = compiled(source, where)
        self._phases = check_module(self.module, where)
        self.calls: Counter[str] = Counter()  # by phase
        self.answers: Counter[str] = Counter()  # by phase: calls that answered/replaced
        self.failures: Counter[str] = Counter()  # by kind: trap, fuel, memory, budget, abi
        self.seconds: dict[str, float] = dict.fromkeys(PHASES, 0.0)  # by phase: time in calls
        self.instances = 0
        self._warned_at = float("-inf")
        self._host = HostCalls(name, self.arg)
        self._linker = make_linker(self._host)
        self._results = (ffi.wasmtime_val_t * 1)()
        self._instantiate(where)
        if self._at_memory_cap():
            raise PluginLoadError(f"{where}: its memory starts within a page of the cap "
                                  f"({self.limits.memory} bytes): no room to run")

    # -- set-up ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def phases(self) -> tuple[str, ...]:
        return self._phases

    @property
    def metrics(self) -> Counter[str]:
        """What the plugin counted (its metric host call)."""
        return self._host.metrics

    @property
    def logs_dropped(self) -> int:
        """Log lines over the plugin's rate, not written."""
        return self._host.logs_dropped

    def _instantiate(self, where: str = "") -> None:
        store = wasmtime.Store(engine())
        store.set_limits(memory_size=self.limits.memory, table_elements=10_000,
                         instances=1, tables=4, memories=1)
        store.set_fuel(self.limits.fuel)
        store.set_epoch_deadline(int(1 / EPOCH_TICK))  # a start function: a second at most
        try:
            instance = self._linker.instantiate(store, self.module)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else "cannot instantiate"
            raise PluginLoadError(f"{where or self.name}: {first}") from None
        exports = instance.exports(store)
        memory = exports.get("memory") if "memory" in [e.name for e in self.module.exports] \
            else None
        self._memory = memory if isinstance(memory, wasmtime.Memory) else None
        self._store = store
        self._context = store._context()
        self._host.memory, self._host.context = self._memory, self._context
        funcs = {p: exports[p] for p in self._phases}
        self._funcs = {p: f for p, f in funcs.items() if isinstance(f, wasmtime.Func)}
        self.instances += 1

    # -- phases (the Plugin interface) --------------------------------------------------------

    def pre_cache(self, request: Request,
                  query: dns.message.Message) -> dns.message.Message | None:
        return self._run("pre_cache", request, query, None)

    def post_cache(self, request: Request, query: dns.message.Message,
                   cached: dns.message.Message | None) -> dns.message.Message | None:
        return self._run("post_cache", request, query, cached)

    def pre_upstream(self, request: Request,
                     query: dns.message.Message) -> dns.message.Message | None:
        return self._run("pre_upstream", request, query, None)

    def post_resolve(self, request: Request, query: dns.message.Message,
                     reply: dns.message.Message) -> dns.message.Message:
        return self._run("post_resolve", request, query, reply) or reply

    def _run(self, phase: str, request: Request, query: dns.message.Message,
             reply: dns.message.Message | None) -> dns.message.Message | None:
        func = self._funcs.get(phase)
        if func is None:
            return None
        spent_key = self._spent_key
        spent = request.extra.get(spent_key, 0.0)
        assert isinstance(spent, float)
        if spent >= self.limits.budget:
            return self._failed(phase, "budget", request, query, fresh=False)
        self.calls[phase] += 1
        call = Call(request, query, reply)
        self._host.call = call
        started = time.perf_counter()
        try:
            self._store.set_fuel(self.limits.fuel)
            ffi.wasmtime_context_set_epoch_deadline(  # a stall guard (see EPOCH_GRACE)
                self._context, 1 + int((self.limits.budget - spent + EPOCH_GRACE) / EPOCH_TICK))
            result = self._invoke(func)
        except wasmtime.Trap as e:
            kind = "fuel" if e.trap_code is wasmtime.TrapCode.OUT_OF_FUEL else \
                "budget" if e.trap_code is wasmtime.TrapCode.INTERRUPT else "trap"
            return self._failed(phase, self._memory_kind(kind), request, query,
                                detail=e.message.splitlines()[0] if e.message else "")
        except wasmtime.WasmtimeError as e:
            return self._failed(phase, "trap", request, query, detail=str(e).splitlines()[0])
        finally:
            self._host.call = None
            elapsed = time.perf_counter() - started
            self.seconds[phase] += elapsed
            request.extra[spent_key] = spent + elapsed
        if self._at_memory_cap():
            return self._failed(phase, "memory", request, query)
        if result == CONTINUE:
            return None
        if result != ANSWER:
            return self._failed(phase, "abi", request, query,
                                detail=f"{phase} returned {result}, not 0 or 1")
        self.answers[phase] += 1
        if call.reply is None:  # "answer" with nothing set: an empty NOERROR reply
            return dns.message.make_response(query, recursion_available=True)
        return call.reply

    def _invoke(self, func: wasmtime.Func) -> int:
        trap = ctypes.POINTER(ffi.wasm_trap_t)()
        error = ffi.wasmtime_func_call(self._context, ctypes.byref(func._func), None, 0,
                                       self._results, 1, ctypes.byref(trap))
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)
        if trap:  # (our host-call trampoline turns its own errors into traps, never into
            raise wasmtime.Trap._from_ptr(trap)  # wasmtime-py's pending Python exception)
        return int(self._results[0].of.i32)

    def _memory_kind(self, kind: str) -> str:
        return "memory" if self._at_memory_cap() else kind

    def _at_memory_cap(self) -> bool:
        if self._memory is None:
            return False
        size = self._memory.data_len(self._store)
        return size + 65536 > self.limits.memory

    def _failed(self, phase: str, kind: str, request: Request, query: dns.message.Message,
                detail: str = "", fresh: bool = True) -> dns.message.Message | None:
        self.failures[kind] += 1
        now = time.monotonic()
        if now - self._warned_at >= 1.0:  # at most a line a second: failures come in floods
            self._warned_at = now
            log.warning("plugin %s v%d %s: %s%s on %s/%s; %s", self._name, self.version, phase,
                        kind, f" ({detail})" if detail else "", request.qname, request.qtype,
                        "SERVFAIL" if self.policy is Policy.CLOSED else "ignored (fail-open)")
        if fresh:  # (not when the call was not made: the instance is as it was)
            try:
                self._instantiate()  # a fresh instance: memory freed, state reset
            except PluginLoadError:
                log.error("plugin %s: cannot instantiate again", self._name)
        if self.policy is Policy.OPEN:
            return None
        reply = servfail_for(query)
        if query.edns >= 0:
            reply.use_edns(0, 0, 1232, options=[dns.edns.EDEOption(
                dns.edns.EDECode.OTHER, f"plugin {self._name} failed: {kind}")])
        return reply
