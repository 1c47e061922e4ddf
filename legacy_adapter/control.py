"""Talking to a running reference: flush its cache, read its counters.

Each resolver has its own control channel:

* Unbound: the ``unbound-control`` program with the run's config file, which
  points it at a unix socket without TLS (``control-use-cert: no``);
* kresd: a unix control socket that evaluates one Lua line per request. We
  switch it to binary mode (``__binary``: each reply is a 4-byte big-endian
  length and the text) and wrap every command in ``pcall`` + ``tojson``, so a
  failure comes back as data instead of free text.

Both implement :class:`Controller`. All calls are async and time-limited.
"""

from __future__ import annotations

import asyncio
import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import dns.exception
import dns.name

from legacy_adapter import lua
from legacy_adapter.errors import ControlError

__all__ = ["Controller", "FlushReport", "KresdControl", "UnboundControl", "absolute_name"]

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class FlushReport:
    """What a flush did.

    :param removed: cache entries the resolver says it removed, when it says.
    :param detail: the resolver's own words, for logs.
    """

    removed: int | None
    detail: str


class Controller(Protocol):
    """Control operations a managed reference offers."""

    async def flush_all(self) -> FlushReport:
        """Forget every cached answer, and what is known about servers where possible."""
        ...

    async def flush_name(self, name: str) -> FlushReport:
        """Forget cached data at and below ``name``."""
        ...

    async def stats(self) -> dict[str, float]:
        """Numeric counters, flattened to ``dotted.names``."""
        ...


def absolute_name(name: str) -> str:
    """``name`` as absolute presentation text, or ``ValueError``."""
    try:
        return dns.name.from_text(name).to_text()
    except dns.exception.DNSException as error:
        raise ValueError(f"{name!r} is not a domain name ({error})") from None


_UNBOUND_REMOVED = re.compile(r"removed (\d+) rrsets, (\d+) messages and (\d+) key entries")


class UnboundControl:
    """Controls one Unbound through ``unbound-control -c CONFIG``."""

    def __init__(self, program: Path, config: Path, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.program = program
        self.config = config
        self.timeout = timeout

    async def command(self, *args: str) -> str:
        """Run one ``unbound-control`` command; return its output or raise ControlError."""
        argv = [str(self.program), "-c", str(self.config), *args]
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        except OSError as error:
            raise ControlError(f"cannot run {self.program}: {error}") from None
        try:
            output, _ = await asyncio.wait_for(process.communicate(), self.timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise ControlError(
                f"unbound-control {' '.join(args)} did not finish in {self.timeout:g} s"
            ) from None
        text = output.decode("utf-8", errors="replace").strip()
        if process.returncode != 0 or text.startswith("error"):
            raise ControlError(
                f"unbound-control {' '.join(args)} failed (exit {process.returncode}): {text}"
            )
        return text

    async def _flush(self, *commands: tuple[str, ...]) -> FlushReport:
        removed = 0
        details: list[str] = []
        for args in commands:
            text = await self.command(*args)
            details.append(f"{' '.join(args)}: {text}")
            match = _UNBOUND_REMOVED.search(text)
            if match:
                removed += sum(int(group) for group in match.groups())
        return FlushReport(removed=removed, detail="; ".join(details))

    async def flush_all(self) -> FlushReport:
        """``flush_zone .`` (all rrsets, messages, keys) and ``flush_infra all`` (servers)."""
        return await self._flush(("flush_zone", "."), ("flush_infra", "all"))

    async def flush_name(self, name: str) -> FlushReport:
        """``flush_zone NAME``: rrsets, messages and keys at and below the name."""
        return await self._flush(("flush_zone", absolute_name(name)))

    async def stats(self) -> dict[str, float]:
        """``stats_noreset`` as a dict (``total.num.queries`` and so on)."""
        text = await self.command("stats_noreset")
        counters: dict[str, float] = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if not sep:
                continue
            try:
                counters[key.strip()] = float(value)
            except ValueError:
                continue
        return counters


class KresdControl:
    """Controls one kresd through its unix control socket."""

    def __init__(self, socket_path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.socket_path = socket_path
        self.timeout = timeout

    async def _exchange(self, line: str) -> str:
        reader, writer = await asyncio.open_unix_connection(str(self.socket_path))
        try:
            greeting = await reader.readexactly(2)
            if greeting != b"> ":
                raise ControlError(f"unexpected greeting {greeting!r} from kresd")
            writer.write(b"__binary\n" + line.encode("utf-8") + b"\n")
            await writer.drain()
            (length,) = struct.unpack("!I", await reader.readexactly(4))
            return (await reader.readexactly(length)).decode("utf-8", errors="replace")
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    async def evaluate(self, expression: str) -> Any:
        """Evaluate a Lua expression in kresd; return its value decoded from JSON.

        Errors raised by the expression come back as :class:`ControlError`.
        """
        if "\n" in expression:
            raise ValueError("kresd evaluates one line per command")
        wrapped = (
            "tojson((function() local ok, r = pcall(function() return "
            + expression
            + " end) if ok then return {ok = true, result = r} end "
            "return {ok = false, error = tostring(r)} end)())"
        )
        try:
            printed = await asyncio.wait_for(self._exchange(wrapped), self.timeout)
        except TimeoutError:
            raise ControlError(
                f"kresd control socket {self.socket_path} did not answer in {self.timeout:g} s"
            ) from None
        except (OSError, asyncio.IncompleteReadError) as error:
            raise ControlError(
                f"cannot talk to kresd control socket {self.socket_path}: {error}"
            ) from None
        try:
            reply = json.loads(lua.unquote_printed(printed))
        except ValueError:
            raise ControlError(f"kresd: {expression}: unexpected reply {printed!r}") from None
        if not isinstance(reply, dict) or "ok" not in reply:
            raise ControlError(f"kresd: {expression}: unexpected reply {printed!r}")
        if not reply["ok"]:
            raise ControlError(f"kresd: {expression} failed: {reply.get('error')}")
        return reply.get("result")

    @staticmethod
    def _report(result: Any) -> FlushReport:
        removed = None
        if isinstance(result, dict) and isinstance(result.get("count"), int | float):
            removed = int(result["count"])
        return FlushReport(removed=removed, detail=json.dumps(result, sort_keys=True))

    async def flush_all(self) -> FlushReport:
        """``cache.clear()``: the whole cache, including server selection state."""
        return self._report(await self.evaluate("cache.clear()"))

    async def flush_name(self, name: str) -> FlushReport:
        """``cache.clear(NAME)``: records at and below the name.

        Proofs of non-existence stay cached at the zone apex; kresd says so in
        the reply (``not_apex``), which ends up in :attr:`FlushReport.detail`.
        """
        return self._report(await self.evaluate(f"cache.clear({lua.quote(absolute_name(name))})"))

    async def stats(self) -> dict[str, float]:
        """``worker.stats()`` and ``cache.stats()``, as ``worker.*`` and ``cache.*``."""
        result = await self.evaluate("{worker = worker.stats(), cache = cache.stats()}")
        counters: dict[str, float] = {}
        if isinstance(result, dict):
            for group, values in result.items():
                if not isinstance(values, dict):
                    continue
                for key, value in values.items():
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        counters[f"{group}.{key}"] = float(value)
        return counters
