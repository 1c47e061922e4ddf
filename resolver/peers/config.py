"""Peer settings: from ``resolver serve`` flags and an optional YAML file, checked before
anything is opened (a bad value is a one-line error naming the flag or the file and key).

YAML (``--peer-config FILE``; every key optional, flags override)::

    listen: 10.0.0.1:5400        # this instance's peer address (worker i: port + i)
    peers:                       # the other members: ADDR:PORT, ADDR:PORT-PORT (a range,
      - 10.0.0.2:5400-5403       #   one member per port: another instance's workers),
      - "[2001:db8::3]:5400"     #   [IPv6]:PORT, unix:PATH
    secret_file: /etc/shadowdns/peer.key   # HMAC-SHA256 key (its bytes, stripped)
    timeout_ms: 50               # owner's first frame (ACK or ANSWER), at most 1000
    answer_timeout_ms: 4000      # the ANSWER after an ACK
    allow: [10.0.0.0/24]         # more networks peers may connect from
    workers: true                # the processes of one `--workers N` form a group
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from configfiles import ConfigError
from netpolicy import AddressError, AddressPolicy, IPNetwork, format_hostport

__all__ = ["PeerSettings", "member_ids", "read_peer_file", "settings"]

MAX_TIMEOUT_MS = 1000
MIN_SECRET = 16


@dataclass(frozen=True)
class PeerSettings:
    listen: tuple[str, int] | None = None
    members: tuple[str, ...] = ()  # the other instances' members
    secret: bytes | None = None
    timeout: float = 0.05
    answer_timeout: float = 4.0
    allow: tuple[IPNetwork, ...] = ()
    workers: bool = True
    # set per process by the supervisor (or for one process): who this member is, and its
    # sibling workers' ids
    self_id: str | None = None
    siblings: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return self.self_id is not None and bool(self.members or self.siblings)

    def for_process(self, index: int, count: int, socket_dir: Path | None,
                    secret: bytes | None) -> PeerSettings:
        """This settings as worker ``index`` of ``count`` sees them."""
        ids = member_ids(self, count, socket_dir)
        if not ids:
            return self
        siblings = tuple(m for i, m in enumerate(ids) if i != index) if self.workers else ()
        return dataclasses.replace(self, self_id=ids[index], siblings=siblings,
                                   secret=self.secret or secret)

    def allowed_networks(self) -> tuple[IPNetwork, ...]:
        nets = list(self.allow)
        for member in (*self.members, *self.siblings, self.self_id or ""):
            if member and not member.startswith("unix:"):
                host = member.rpartition(":")[0].strip("[]")
                nets.append(ipaddress.ip_network(host))
        return tuple(nets)


def member_ids(peers: PeerSettings, count: int, socket_dir: Path | None) -> list[str]:
    """The ids of this instance's ``count`` workers: ``ADDR:PORT+i`` with a peer listen
    address, else unix sockets in ``socket_dir`` when the workers form a group."""
    if peers.listen is not None:
        host, port = peers.listen
        return [format_hostport(host, port + i) for i in range(count)]
    if socket_dir is not None and count > 1 and peers.workers:
        return [f"unix:{socket_dir}/worker{i}.sock" for i in range(count)]
    return []


def _members(policy: AddressPolicy, key: str, text: object) -> list[str]:
    value = str(text).strip()
    if value.startswith("unix:"):
        if len(value) == 5:
            raise ConfigError(f"{key}: unix: needs a socket path")
        return [value]
    host, sep, ports = value.rpartition(":")
    first, dash, last = ports.partition("-")
    if sep and dash and first.isdigit() and last.isdigit():
        lo, hi = int(first), int(last)
        if not 1 <= lo <= hi <= 65535 or hi - lo > 255:
            raise ConfigError(f"{key}: {value!r}: expected a port range LOW-HIGH within "
                              "1..65535, at most 256 ports")
        addr = _hostport(policy, key, f"{host}:{lo}")[0]
        return [format_hostport(addr, p) for p in range(lo, hi + 1)]
    return [format_hostport(*_hostport(policy, key, value))]


def _hostport(policy: AddressPolicy, key: str, text: str) -> tuple[str, int]:
    try:
        return policy.hostport(key, text)
    except AddressError as e:
        raise ConfigError(str(e)) from None


def _timeout(key: str, value: object, limit: int | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0 \
            or (limit is not None and value > limit):
        bound = f" at most {limit}" if limit is not None else ""
        raise ConfigError(f"{key}: expected a positive number of milliseconds{bound}, "
                          f"got {value!r}")
    return float(value) / 1000


def read_secret(key: str, path: Path) -> bytes:
    try:
        secret = path.read_bytes().strip()
    except OSError as e:
        raise ConfigError(f"{key}: {path}: cannot read: {e.strerror}") from None
    if len(secret) < MIN_SECRET:
        raise ConfigError(f"{key}: {path}: the secret is {len(secret)} bytes; at least "
                          f"{MIN_SECRET} are needed")
    return secret


def read_peer_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"--peer-config: {path}: cannot read: {e.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        where = getattr(e, "problem_mark", None)
        line = f":{where.line + 1}" if where is not None else ""
        raise ConfigError(f"--peer-config: {path}{line}: not YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"--peer-config: {path}: expected a mapping of peer settings")
    known = {"listen", "peers", "secret_file", "timeout_ms", "answer_timeout_ms", "allow",
             "workers"}
    for k in data:
        if k not in known:
            raise ConfigError(f"--peer-config: {path}: unknown key {k!r} (known: "
                              f"{', '.join(sorted(known))})")
    return data


def settings(policy: AddressPolicy, *, file: Path | None = None, listen: str | None = None,
             peers: list[str] | None = None, secret_file: Path | None = None,
             timeout_ms: float | None = None, allow: list[str] | None = None,
             workers: bool | None = None) -> PeerSettings:
    """Peer settings from the YAML ``file`` (if any) and the flags (which win)."""
    data = read_peer_file(file) if file is not None else {}
    where = f"--peer-config {file}: " if file is not None else ""

    def pick(flag: str, key: str, value: object) -> tuple[str, object]:
        if value is not None:
            return flag, value
        return f"{where}{key}", data.get(key)

    key, raw = pick("--peer-listen", "listen", listen)
    listen_at = _hostport(policy, key, str(raw)) if raw is not None else None
    key, raw = pick("--peer", "peers", peers)
    if raw is not None and not isinstance(raw, list):
        raise ConfigError(f"{key}: expected a list of ADDR:PORT")
    members: list[str] = []
    for item in raw or []:
        members.extend(_members(policy, key, item))
    key, raw = pick("--peer-secret-file", "secret_file", secret_file)
    secret = read_secret(key, Path(str(raw))) if raw is not None else None
    key, raw = pick("--peer-timeout-ms", "timeout_ms", timeout_ms)
    timeout = _timeout(key, raw, MAX_TIMEOUT_MS) if raw is not None else 0.05
    key, raw = pick("--peer-answer-timeout-ms", "answer_timeout_ms", None)
    answer_timeout = _timeout(key, raw, None) if raw is not None else 4.0
    key, raw = pick("--peer-allow", "allow", allow)
    if raw is not None and not isinstance(raw, list):
        raise ConfigError(f"{key}: expected a list of networks")
    nets: list[IPNetwork] = []
    for item in raw or []:
        try:
            nets.append(policy.network(key, item))
        except AddressError as e:
            raise ConfigError(str(e)) from None
    key, raw = pick("--no-peer-workers", "workers", workers)
    if raw is not None and not isinstance(raw, bool):
        raise ConfigError(f"{key}: expected true or false, got {raw!r}")
    if members and listen_at is None:
        raise ConfigError("--peer: peers need this instance's own peer address "
                          "(--peer-listen ADDR:PORT, or listen: in --peer-config)")
    own = {format_hostport(*listen_at)} if listen_at else set()
    if own & set(members):
        raise ConfigError(f"--peer: {sorted(own & set(members))[0]} is this instance's own "
                          "--peer-listen address")
    return PeerSettings(listen=listen_at, members=tuple(dict.fromkeys(members)), secret=secret,
                        timeout=timeout, answer_timeout=answer_timeout, allow=tuple(nets),
                        workers=True if raw is None else bool(raw))
