"""WebAssembly plugins (wasmtime): sandboxed, bounded, reached through versioned host calls.

A plugin is a ``.wasm`` or ``.wat`` module.  It exports a function per phase it takes part
in (``pre_cache``, ``post_cache``, ``pre_upstream``, ``post_resolve``; each ``() -> i32``)
and imports the host calls of ABI version 1 from the module ``"shadowdns.v1"``.  The exact
signatures, return codes and memory layout are in docs/PLUGINS.md; :data:`HOST_CALLS` is
the table they are checked against.

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

Calls are synchronous on the worker's event loop: one instance is never entered twice at
once, and a swap (:mod:`resolver.pluginhost`) replaces the whole plugin object, so a query
that started on one version finishes on it.
"""

from __future__ import annotations

import ctypes
import dataclasses
import enum
import hashlib
import itertools
import logging
import threading
import time
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

import dns.edns
import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import wasmtime
from wasmtime import _ffi as ffi  # the raw C API: calls without wasmtime-py's per-call checks

from resolver.model import Request
from resolver.plugins import PHASES, Plugin, copy_reply, servfail_for

__all__ = [
    "ABI_MODULE",
    "HOST_CALLS",
    "Limits",
    "PluginLoadError",
    "Policy",
    "WasmPlugin",
    "checked_specs",
    "load_plugin",
    "load_plugins",
    "parse_plugin_spec",
]

log = logging.getLogger("shadowdns.resolver.wasm")

ABI_MODULE = "shadowdns.v1"
"""The import module of ABI version 1; a later, incompatible ABI gets a new name."""

# Return codes of host calls (negative; a length or a value otherwise)
ERR_NO_REPLY = -1  # the phase has no reply to read (pre_cache, pre_upstream, a post_cache miss)
ERR_RANGE = -2  # section or index out of range
ERR_MEMORY = -3  # pointer/length outside the exported memory, or no memory exported
ERR_PARSE = -4  # record text or EDE code not understood
ERR_LIMIT = -5  # too many records, metric names or log lines

# Phase function results
CONTINUE = 0  # go on as if the plugin had not been called
ANSWER = 1  # answer with (pre phases) / replace the reply by (post phases) the working reply

SECTIONS = ("answer", "authority", "additional")
FLAG_RD, FLAG_CD, FLAG_DO, FLAG_EDNS, FLAG_STREAM = 1, 2, 4, 8, 16

MAX_TEXT = 4096  # bytes of record text, EDE text or log line read from the module
MAX_EDE_TEXT = 200
MAX_ADDED = 64  # records a call may add
MAX_METRICS = 32  # distinct metric names per plugin
MAX_METRIC_NAME = 64
LOG_LINES_PER_SECOND = 10

_I32 = wasmtime.ValType.i32()


class Policy(enum.Enum):
    """What a failed plugin call means for the query."""

    OPEN = "open"  # as if no plugin
    CLOSED = "closed"  # SERVFAIL with EDE 0 naming the plugin


@dataclasses.dataclass(frozen=True)
class Limits:
    fuel: int = 2_000_000  # wasm instructions (roughly) per phase call
    memory: int = 16 * 1024 * 1024  # bytes of linear memory per instance
    budget: float = 0.005  # seconds of this plugin's calls per query


class PluginLoadError(Exception):
    """A module that cannot be a plugin: one line saying what and where."""


# name -> number of parameters; every parameter is an i32 and every host call returns one
HOST_CALLS: dict[str, int] = {
    "arg": 2, "qname": 2, "qtype": 0, "qclass": 0, "client": 2, "flags": 0,
    "rcode": 0, "count": 1, "record": 4,
    "set_rcode": 1, "clear": 1, "add_record": 3, "add_ede": 3,
    "log": 3, "metric": 3,
}

_ENGINE: wasmtime.Engine | None = None
_ENGINE_LOCK = threading.Lock()  # plugins are compiled in threads (resolver.control)


def engine() -> wasmtime.Engine:
    """The process's engine (fuel metering on): every module and store must share one."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            config = wasmtime.Config()
            config.consume_fuel = True
            config.cranelift_opt_level = "speed"
            _ENGINE = wasmtime.Engine(config)
        return _ENGINE


_COMPILED: OrderedDict[str, wasmtime.Module] = OrderedDict()  # by the source's sha256
_COMPILED_MAX = 32
_COMPILED_LOCK = threading.Lock()


def compiled(source: bytes, where: str) -> wasmtime.Module:
    """:func:`compile_module`, remembered by the source's hash for the last
    :data:`_COMPILED_MAX` modules: loading the same module again (a new argument, a
    rollback) costs no compilation, which on a busy server is CPU taken from queries."""
    key = hashlib.sha256(source).hexdigest()
    with _COMPILED_LOCK:
        module = _COMPILED.get(key)
        if module is not None:
            _COMPILED.move_to_end(key)
            return module
    module = compile_module(source, where)
    with _COMPILED_LOCK:
        _COMPILED[key] = module
        while len(_COMPILED) > _COMPILED_MAX:
            _COMPILED.popitem(last=False)
    return module


def compile_module(source: bytes, where: str) -> wasmtime.Module:
    """Binary wasm or WAT text (compiled by wasmtime at load); :class:`PluginLoadError`."""
    try:
        if source[:4] == b"\0asm":
            return wasmtime.Module(engine(), source)
        text = source.decode("utf-8")
        if not text.strip() or text[0] == "\0":
            raise UnicodeDecodeError("utf-8", source, 0, 1, "empty or binary")
        return wasmtime.Module(engine(), text)
    except UnicodeDecodeError:
        raise PluginLoadError(f"{where}: neither wasm (\\0asm) nor UTF-8 WAT text") from None
    except (wasmtime.WasmtimeError, TypeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "invalid module"
        raise PluginLoadError(f"{where}: {first}") from None


def _check_module(module: wasmtime.Module, where: str) -> tuple[str, ...]:
    """The phases the module exports; :class:`PluginLoadError` for a wrong import/export."""
    for imp in module.imports:
        ty = imp.type
        if imp.module != ABI_MODULE:
            raise PluginLoadError(f"{where}: imports {imp.module}.{imp.name}; this host "
                                  f"offers only {ABI_MODULE}")
        if imp.name not in HOST_CALLS:
            raise PluginLoadError(f"{where}: imports unknown host call {ABI_MODULE}.{imp.name}")
        want = HOST_CALLS[imp.name]
        if not isinstance(ty, wasmtime.FuncType) or len(ty.params) != want \
                or any(str(p) != "i32" for p in ty.params) \
                or [str(r) for r in ty.results] != ["i32"]:
            params = f"(param{' i32' * want}) " if want else ""
            raise PluginLoadError(f"{where}: host call {imp.name} must be imported as "
                                  f"(func {params}(result i32))")
    phases = []
    for exp in module.exports:
        if exp.name in PHASES:
            ty = exp.type
            if not isinstance(ty, wasmtime.FuncType) or ty.params \
                    or [str(r) for r in ty.results] != ["i32"]:
                raise PluginLoadError(f"{where}: phase {exp.name} must be exported as "
                                      "(func (result i32))")
            phases.append(exp.name)
    if not phases:
        raise PluginLoadError(f"{where}: exports no phase (one of {', '.join(PHASES)})")
    return tuple(p for p in PHASES if p in phases)


@dataclasses.dataclass
class _Call:
    """The state one phase call works on: the query, and the reply as the plugin sees it."""

    request: Request
    query: dns.message.Message
    reply: dns.message.Message | None
    owned: bool = False  # reply is our copy (made at the first change)
    added: int = 0


@ffi.wasmtime_func_callback_t
def _trampoline(env, caller, params, nparams, results, nresults):  # type: ignore[no-untyped-def]
    """Every host call lands here: i32 arguments in, one i32 out, no wasmtime-py objects
    made on the way (its generic trampoline costs ~15 µs a call)."""
    entry = _HOSTS.get(env or 0)
    plugin = entry[0]() if entry is not None else None
    if entry is None or plugin is None:
        return ctypes.cast(wasmtime.Trap("host call gone")._consume(), ctypes.c_void_p).value
    fn = entry[1]
    plugin._caller = caller
    try:
        if nparams == 0:
            value = fn(plugin)
        elif nparams == 2:
            value = fn(plugin, params[0].of.i32, params[1].of.i32)
        else:
            value = fn(plugin, *[params[i].of.i32 for i in range(nparams)])
        results[0].kind = ffi.WASMTIME_I32.value
        results[0].of.i32 = value
        return 0
    except BaseException as e:  # a bug in a host call: a trap, never an exception in wasm
        log.error("plugin %s: host call failed", plugin.name, exc_info=e)
        return ctypes.cast(wasmtime.Trap("host call failed")._consume(), ctypes.c_void_p).value
    finally:
        plugin._caller = None


@ffi.wasmtime_func_finalizer_t if hasattr(ffi, "wasmtime_func_finalizer_t") \
    else ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _finalize(env):  # type: ignore[no-untyped-def]
    _HOSTS.pop(env or 0, None)


# host-call id -> (the plugin, weakly: a replaced plugin is freed with its linker, whose
# finalizer drops the ids; the unbound host-call method)
_HOSTS: dict[int, tuple[weakref.ref[WasmPlugin], Callable[..., int]]] = {}
_host_ids = itertools.count(1)  # next() is atomic: plugins may be built in two threads


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
        self._phases = _check_module(self.module, where)
        self.calls: Counter[str] = Counter()  # by phase
        self.answers: Counter[str] = Counter()  # by phase: calls that answered/replaced
        self.failures: Counter[str] = Counter()  # by kind: trap, fuel, memory, budget, abi
        self.seconds: dict[str, float] = dict.fromkeys(PHASES, 0.0)  # by phase: time in calls
        self.metrics: Counter[str] = Counter()  # what the plugin counted (metric host call)
        self.logs_dropped = 0
        self.instances = 0
        self._log_window = (0.0, 0)
        self._warned_at = float("-inf")
        self._call: _Call | None = None
        self._caller: object = None
        self._linker = self._make_linker()
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

    def _make_linker(self) -> wasmtime.Linker:
        linker = wasmtime.Linker(engine())
        for call, nparams in HOST_CALLS.items():
            ident = next(_host_ids)
            _HOSTS[ident] = (weakref.ref(self), getattr(WasmPlugin, f"_h_{call}"))
            ty = wasmtime.FuncType([_I32] * nparams, [_I32])
            name = call.encode()
            module = ABI_MODULE.encode()
            error = ffi.wasmtime_linker_define_func(
                linker.ptr(), ctypes.create_string_buffer(module), len(module),
                ctypes.create_string_buffer(name), len(name), ty.ptr(), _trampoline,
                ident, _finalize)
            if error:
                raise wasmtime.WasmtimeError._from_ptr(error)
        return linker

    def _instantiate(self, where: str = "") -> None:
        store = wasmtime.Store(engine())
        store.set_limits(memory_size=self.limits.memory, table_elements=10_000,
                         instances=1, tables=4, memories=1)
        store.set_fuel(self.limits.fuel)
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
            return self._failed(phase, "budget", request, query)
        self.calls[phase] += 1
        call = _Call(request, query, reply)
        self._call = call
        started = time.perf_counter()
        try:
            self._store.set_fuel(self.limits.fuel)
            result = self._invoke(func)
        except wasmtime.Trap as e:
            kind = "fuel" if e.trap_code is wasmtime.TrapCode.OUT_OF_FUEL else "trap"
            return self._failed(phase, self._memory_kind(kind), request, query,
                                detail=e.message.splitlines()[0] if e.message else "")
        except wasmtime.WasmtimeError as e:
            return self._failed(phase, "trap", request, query, detail=str(e).splitlines()[0])
        finally:
            self._call = None
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
                detail: str = "") -> dns.message.Message | None:
        self.failures[kind] += 1
        now = time.monotonic()
        if now - self._warned_at >= 1.0:  # at most a line a second: failures come in floods
            self._warned_at = now
            log.warning("plugin %s v%d %s: %s%s on %s/%s; %s", self._name, self.version, phase,
                        kind, f" ({detail})" if detail else "", request.qname, request.qtype,
                        "SERVFAIL" if self.policy is Policy.CLOSED else "ignored (fail-open)")
        if kind != "budget":
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

    # -- memory --------------------------------------------------------------------------------

    def _span(self, ptr: int, length: int) -> int | None:
        """The host address of [ptr, ptr+length) in the module's memory, or None."""
        if self._memory is None or ptr < 0 or length < 0:
            return None
        context = ffi.wasmtime_caller_context(self._caller) if self._caller else self._context
        size = ffi.wasmtime_memory_data_size(context, ctypes.byref(self._memory._memory))
        if ptr + length > size:
            return None
        base = ffi.wasmtime_memory_data(context, ctypes.byref(self._memory._memory))
        return ctypes.addressof(base.contents) + ptr

    def _read(self, ptr: int, length: int) -> bytes | None:
        if length > MAX_TEXT:
            return None
        address = self._span(ptr, length)
        return None if address is None else ctypes.string_at(address, length)

    def _write(self, data: bytes, ptr: int, cap: int) -> int:
        """Copy ``data`` to [ptr, ptr+cap) if it fits; its length either way (or an error)."""
        if len(data) > cap:
            return len(data)
        address = self._span(ptr, len(data))
        if address is None:
            return ERR_MEMORY
        ctypes.memmove(address, data, len(data))
        return len(data)

    def _text(self, ptr: int, length: int) -> str | None:
        raw = self._read(ptr, length)
        if raw is None:
            return None
        return raw.decode("utf-8", "replace")

    def _working(self) -> dns.message.Message:
        """The reply to change: the phase's reply copied, or a new NOERROR reply."""
        call = self._call
        assert call is not None
        if call.reply is None:
            call.reply = dns.message.make_response(call.query, recursion_available=True)
            call.owned = True
        elif not call.owned:
            call.reply = copy_reply(call.reply)
            call.owned = True
        return call.reply

    # -- host calls (docs/PLUGINS.md) ---------------------------------------------------------

    def _h_arg(self, ptr: int, cap: int) -> int:
        return self._write(self.arg, ptr, cap)

    def _h_qname(self, ptr: int, cap: int) -> int:
        assert self._call is not None
        return self._write(qname_text(self._call.request.qname), ptr, cap)

    def _h_qtype(self) -> int:
        assert self._call is not None
        return int(self._call.request.qtype)

    def _h_qclass(self) -> int:
        assert self._call is not None
        return int(self._call.request.qclass)

    def _h_client(self, ptr: int, cap: int) -> int:
        assert self._call is not None
        return self._write(self._call.request.client[0].encode(), ptr, cap)

    def _h_flags(self) -> int:
        call = self._call
        assert call is not None
        r = call.request
        return (FLAG_RD * r.rd) | (FLAG_CD * r.cd) | (FLAG_DO * r.do) \
            | (FLAG_EDNS * (call.query.edns >= 0)) \
            | (FLAG_STREAM * (r.extra.get("transport", "udp") != "udp"))

    def _h_rcode(self) -> int:
        assert self._call is not None
        reply = self._call.reply
        return ERR_NO_REPLY if reply is None else int(reply.rcode())

    def _section(self, section: int) -> list[dns.rrset.RRset] | int:
        """A section of the phase's reply to read, or the error code."""
        assert self._call is not None
        reply = self._call.reply
        if reply is None:
            return ERR_NO_REPLY
        if not 0 <= section < len(SECTIONS):
            return ERR_RANGE
        return list(reply.sections[section + 1])

    def _h_count(self, section: int) -> int:
        rrsets = self._section(section)
        return rrsets if isinstance(rrsets, int) else sum(len(rrset) for rrset in rrsets)

    def _h_record(self, section: int, index: int, ptr: int, cap: int) -> int:
        rrsets = self._section(section)
        if isinstance(rrsets, int):
            return rrsets
        records = [(rrset, rd) for rrset in rrsets for rd in rrset]
        if not 0 <= index < len(records):
            return ERR_RANGE
        rrset, rd = records[index]
        text = (f"{rrset.name.to_text()} {rrset.ttl} {dns.rdataclass.to_text(rrset.rdclass)} "
                f"{dns.rdatatype.to_text(rrset.rdtype)} {rd}")
        return self._write(text.encode(), ptr, cap)

    def _h_set_rcode(self, rcode: int) -> int:
        if not 0 <= rcode <= 0xF:
            return ERR_RANGE
        self._working().set_rcode(dns.rcode.Rcode(rcode))
        return 0

    def _h_clear(self, section: int) -> int:
        if not 0 <= section < len(SECTIONS):
            return ERR_RANGE
        self._working().sections[section + 1] = []
        return 0

    def _h_add_record(self, section: int, ptr: int, length: int) -> int:
        if not 0 <= section < len(SECTIONS):
            return ERR_RANGE
        text = self._text(ptr, length)
        if text is None:
            return ERR_MEMORY
        call = self._call
        assert call is not None
        if call.added >= MAX_ADDED:
            return ERR_LIMIT
        try:
            name, ttl, rdclass, rdtype, rdata = _parse_record(text)
        except (ValueError, dns.exception.DNSException):
            return ERR_PARSE
        reply = self._working()
        records = reply.sections[section + 1]
        for i, rrset in enumerate(records):
            if rrset.name == name and rrset.rdtype == rdtype and rrset.rdclass == rdclass \
                    and rrset.covers == dns.rdatatype.NONE:
                grown = rrset.copy()  # never change an RRset the cache may hold
                grown.add(rdata, ttl)
                records[i] = grown
                break
        else:
            new = dns.rrset.RRset(name, rdclass, rdtype)
            new.add(rdata, ttl)
            records.append(new)
        call.added += 1
        return 0

    def _h_add_ede(self, code: int, ptr: int, length: int) -> int:
        if not 0 <= code <= 0xFFFF:
            return ERR_RANGE
        text = self._text(ptr, length) if length else ""
        if text is None:
            return ERR_MEMORY
        reply = self._working()
        option = dns.edns.EDEOption(dns.edns.EDECode.make(code), text[:MAX_EDE_TEXT] or None)
        if reply.edns < 0:
            reply.use_edns(0, 0, 1232, options=[option])
        else:
            reply.use_edns(0, reply.ednsflags, reply.payload,
                           options=[*reply.options, option])
        return 0

    def _h_log(self, level: int, ptr: int, length: int) -> int:
        text = self._text(ptr, min(length, 512))
        if text is None:
            return ERR_MEMORY
        now = time.monotonic()
        second, lines = self._log_window
        if int(now) != int(second):
            second, lines = now, 0
        if lines >= LOG_LINES_PER_SECOND:
            self.logs_dropped += 1
            return ERR_LIMIT
        self._log_window = (second, lines + 1)
        levels = (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR)
        log.log(levels[min(max(level, 0), 3)], "plugin %s: %s", self._name, text)
        return 0

    def _h_metric(self, ptr: int, length: int, delta: int) -> int:
        if not 0 < length <= MAX_METRIC_NAME:
            return ERR_RANGE
        raw = self._read(ptr, length)
        if raw is None:
            return ERR_MEMORY
        name = raw.decode("ascii", "replace")
        if not all(c.isalnum() or c == "_" for c in name):
            return ERR_PARSE
        if name not in self.metrics and len(self.metrics) >= MAX_METRICS:
            return ERR_LIMIT
        self.metrics[name] += delta
        return 0


_PLAIN = bytes(range(ord("0"), ord("9") + 1)) + bytes(range(ord("A"), ord("Z") + 1)) \
    + bytes(range(ord("a"), ord("z") + 1)) + b"-_*"


def qname_text(name: dns.name.Name) -> bytes:
    """``name`` in presentation format, lower case, with the final dot (what the ``qname``
    host call gives); labels of letters, digits, '-', '_' and '*' are joined without
    dnspython's escaping pass (the common case, 4x faster)."""
    raw = b".".join(name.labels)
    if not raw:
        return b"."
    if not raw.translate(None, _PLAIN + b".") and raw.count(b".") == len(name.labels) - 1:
        return raw.lower()  # (no label holds a dot)
    return name.to_text().lower().encode()


def _parse_record(text: str) -> tuple[dns.name.Name, int, dns.rdataclass.RdataClass,
                                      dns.rdatatype.RdataType, dns.rdata.Rdata]:
    """``NAME TTL [CLASS] TYPE RDATA`` (absolute name; class IN when left out)."""
    fields = text.strip().split(None, 3)
    if len(fields) < 4:
        raise ValueError("too few fields")
    name = dns.name.from_text(fields[0])
    ttl = int(fields[1])
    if not 0 <= ttl <= 0x7FFFFFFF:
        raise ValueError("TTL out of range")
    rest = fields[2:]
    try:
        rdclass = dns.rdataclass.from_text(rest[0])
        rest = rest[1].split(None, 1)
    except dns.rdataclass.UnknownRdataclass:
        rdclass = dns.rdataclass.IN
        rest = [rest[0], rest[1]]
    if len(rest) < 2:
        raise ValueError("no RDATA")
    rdtype = dns.rdatatype.from_text(rest[0])
    rdata = dns.rdata.from_text(rdclass, rdtype, rest[1], origin=dns.name.root)
    return name, ttl, rdclass, rdtype, rdata


# -- loading ------------------------------------------------------------------------------------


def parse_plugin_spec(spec: str) -> tuple[Path, Policy, str]:
    """``FILE[:open|closed][:ARG]`` (the --plugin flag) -> path, policy, argument."""
    path, _, rest = spec.partition(":")
    policy_text, _, arg = rest.partition(":")
    try:
        policy = Policy(policy_text or "open")
    except ValueError:
        raise PluginLoadError(f"--plugin {spec}: policy must be open or closed, "
                              f"not {policy_text!r}") from None
    return Path(path), policy, arg


def bundled(name: str) -> Path:
    """An example plugin shipped with the resolver (resolver/data/plugins/NAME.wat)."""
    return Path(__file__).parent / "data" / "plugins" / f"{name}.wat"


def load_plugin(path: Path, *, policy: Policy = Policy.OPEN, arg: str = "",
                limits: Limits | None = None, name: str = "",
                version: int = 1) -> WasmPlugin:
    """The plugin in ``path`` (a bundled example's bare name works too)."""
    if not path.exists() and path.suffix == "" and bundled(str(path)).exists():
        path = bundled(str(path))
    try:
        source = path.read_bytes()
    except OSError as e:
        raise PluginLoadError(f"{path}: {e.strerror or e}") from None
    return WasmPlugin(source, name=name or path.stem, where=str(path), policy=policy,
                      limits=limits, arg=arg, version=version)


def load_plugins(specs: tuple[tuple[Path, str, str], ...]) -> list[WasmPlugin]:
    """Plugins from (file, policy, argument) specs, in order (:class:`PluginLoadError`
    names the file)."""
    return [load_plugin(path, policy=Policy(policy), arg=arg) for path, policy, arg in specs]


def checked_specs(specs: Iterable[str], what: str) -> tuple[tuple[Path, str, str], ...]:
    """``FILE[:open|closed[:ARG]]`` specs parsed and their files found; ``ValueError`` with
    one line naming ``what`` (the flag or config key) otherwise."""
    out = []
    for spec in specs:
        try:
            path, policy, arg = parse_plugin_spec(spec)
        except PluginLoadError as e:
            raise ValueError(str(e).replace("--plugin", what, 1)) from None
        if not path.exists() and not (path.suffix == "" and bundled(str(path)).exists()):
            raise ValueError(f"{what} {spec}: {path} does not exist")
        out.append((path, policy.value, arg))
    return tuple(out)
