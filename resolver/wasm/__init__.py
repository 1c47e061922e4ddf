"""WebAssembly plugins (wasmtime): sandboxed, bounded, reached through versioned host calls.

A plugin is a ``.wasm`` or ``.wat`` module.  It exports a function per phase it takes part
in (``pre_cache``, ``post_cache``, ``pre_upstream``, ``post_resolve``; each ``() -> i32``)
and imports the host calls of ABI version 1 from the module ``"shadowdns.v1"``.  The exact
signatures, return codes and memory layout are in docs/PLUGINS.md; :data:`HOST_CALLS` is
the table they are checked against.

* :mod:`~resolver.wasm.abi`: ABI v1, the host calls and the state of a phase call;
* :mod:`~resolver.wasm.runtime`: the engine, compiled and checked modules, the linker
  whose host calls go through one raw C-API trampoline;
* :mod:`~resolver.wasm.plugin`: :class:`WasmPlugin`, one live instance with its bounds
  (fuel, memory, time per query), failure policy and counters;
* :mod:`~resolver.wasm.loading`: ``FILE[:open|closed[:ARG]]`` specs, bundled examples,
  loading files.

Calls are synchronous on the worker's event loop: one instance is never entered twice at
once, and a swap (:mod:`resolver.control`) replaces the whole plugin object, so a query
that started on one version finishes on it.
"""

from resolver.wasm.abi import ABI_MODULE, HOST_CALLS, qname_text
from resolver.wasm.loading import (
    bundled,
    checked_specs,
    load_plugin,
    load_plugins,
    parse_plugin_spec,
)
from resolver.wasm.plugin import Limits, Policy, WasmPlugin
from resolver.wasm.runtime import PluginLoadError

__all__ = [
    "ABI_MODULE",
    "HOST_CALLS",
    "Limits",
    "PluginLoadError",
    "Policy",
    "WasmPlugin",
    "bundled",
    "checked_specs",
    "load_plugin",
    "load_plugins",
    "parse_plugin_spec",
    "qname_text",
]
