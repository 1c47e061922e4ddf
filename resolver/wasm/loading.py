"""Loading plugins: ``FILE[:open|closed[:ARG]]`` specs, the bundled examples
(resolver/data/plugins), and files read into :class:`~resolver.wasm.plugin.WasmPlugin`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from resolver.wasm.plugin import Limits, Policy, WasmPlugin
from resolver.wasm.runtime import PluginLoadError


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
    return Path(__file__).parent.parent / "data" / "plugins" / f"{name}.wat"


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
