"""The wasmtime side of plugins: one engine, compiled modules (checked against ABI v1 and
remembered by hash), and linkers whose host calls reach :class:`~resolver.wasm.abi.HostCalls`
through one raw C-API trampoline."""

from __future__ import annotations

import ctypes
import hashlib
import itertools
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable

import wasmtime
from wasmtime import _ffi as ffi  # the raw C API: calls without wasmtime-py's per-call checks

from resolver.plugins import PHASES
from resolver.wasm.abi import ABI_MODULE, HOST_CALLS, HostCalls, log

_I32 = wasmtime.ValType.i32()


class PluginLoadError(Exception):
    """A module that cannot be a plugin: one line saying what and where."""


_ENGINE: wasmtime.Engine | None = None
_ENGINE_LOCK = threading.Lock()  # plugins are compiled in threads (resolver.control)
EPOCH_TICK = 0.01
"""Seconds between two epochs of the engine (a thread advances it): the grain of the
wall-time bound inside a call."""
EPOCH_GRACE = 0.1
"""A call still running this long after its query's budget is spent traps (``budget``).
Host calls cost no fuel, so fuel alone lets a loop of them stall a worker for seconds; the
grace is far above scheduling delays: with none (the bare 5 ms budget), a busy 2-core
machine (load average 8.6) interrupted 7 of 10,000 blocklist calls of 15 µs."""


def engine() -> wasmtime.Engine:
    """The process's engine (fuel metering on): every module and store must share one."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            config = wasmtime.Config()
            config.consume_fuel = True
            config.epoch_interruption = True  # the wall-time bound within a call (plugin.py)
            config.cranelift_opt_level = "speed"
            _ENGINE = wasmtime.Engine(config)
            threading.Thread(target=_tick, args=(_ENGINE,), name="wasm-epoch",
                             daemon=True).start()
        return _ENGINE


def _tick(ticked: wasmtime.Engine) -> None:
    """Advance the engine's epoch every :data:`EPOCH_TICK` seconds, for as long as the
    process lives (made with the first plugin: no plugin, no thread)."""
    while True:
        time.sleep(EPOCH_TICK)
        ticked.increment_epoch()


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


def check_module(module: wasmtime.Module, where: str) -> tuple[str, ...]:
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


@ffi.wasmtime_func_callback_t
def _trampoline(env, caller, params, nparams, results, nresults):  # type: ignore[no-untyped-def]
    """Every host call lands here: i32 arguments in, one i32 out, no wasmtime-py objects
    made on the way (its generic trampoline costs ~15 µs a call)."""
    entry = _HOSTS.get(env or 0)
    host = entry[0]() if entry is not None else None
    if entry is None or host is None:
        return ctypes.cast(wasmtime.Trap("host call gone")._consume(), ctypes.c_void_p).value
    fn = entry[1]
    host.caller = caller
    try:
        if nparams == 0:
            value = fn(host)
        elif nparams == 2:
            value = fn(host, params[0].of.i32, params[1].of.i32)
        else:
            value = fn(host, *[params[i].of.i32 for i in range(nparams)])
        results[0].kind = ffi.WASMTIME_I32.value
        results[0].of.i32 = value
        return 0
    except BaseException as e:  # a bug in a host call: a trap, never an exception in wasm
        log.error("plugin %s: host call failed", host.name, exc_info=e)
        return ctypes.cast(wasmtime.Trap("host call failed")._consume(), ctypes.c_void_p).value
    finally:
        host.caller = None


@ffi.wasmtime_func_finalizer_t if hasattr(ffi, "wasmtime_func_finalizer_t") \
    else ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _finalize(env):  # type: ignore[no-untyped-def]
    _HOSTS.pop(env or 0, None)


# host-call id -> (the plugin's host calls, weakly: a replaced plugin is freed with them and
# its linker, whose finalizer drops the ids; the unbound host-call method)
_HOSTS: dict[int, tuple[weakref.ref[HostCalls], Callable[..., int]]] = {}
_host_ids = itertools.count(1)  # next() is atomic: plugins may be built in two threads


def make_linker(host: HostCalls) -> wasmtime.Linker:
    """A linker defining every host call of :data:`HOST_CALLS` as ``host``'s."""
    linker = wasmtime.Linker(engine())
    for call, nparams in HOST_CALLS.items():
        ident = next(_host_ids)
        _HOSTS[ident] = (weakref.ref(host), getattr(HostCalls, f"_h_{call}"))
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
