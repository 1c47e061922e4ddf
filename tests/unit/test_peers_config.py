"""Peer settings from flags and YAML (issue 21 part 4): checked, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from configfiles import ConfigError
from netpolicy import PRODUCTION, AddressPolicy
from resolver.peers.config import settings

LAB = AddressPolicy.lab_mode("--lab")


def test_flags_give_members_ranges_and_the_allow_list(tmp_path: Path) -> None:
    key = tmp_path / "k"
    key.write_bytes(b"0123456789abcdef\n")
    s = settings(PRODUCTION, listen="10.0.0.1:5400", peers=["10.0.0.2:5400-5402",
                                                             "[2001:db8::3]:5400"],
                 secret_file=key, timeout_ms=20, allow=["192.0.2.0/24"])
    assert s.members == ("10.0.0.2:5400", "10.0.0.2:5401", "10.0.0.2:5402",
                         "[2001:db8::3]:5400")
    assert s.secret == b"0123456789abcdef" and s.timeout == 0.02
    worker = s.for_process(1, 2, None, None)
    assert worker.self_id == "10.0.0.1:5401" and worker.siblings == ("10.0.0.1:5400",)
    nets = {str(n) for n in worker.allowed_networks()}
    assert {"192.0.2.0/24", "10.0.0.2/32", "2001:db8::3/128", "10.0.0.1/32"} <= nets


def test_yaml_keys_and_flags_win(tmp_path: Path) -> None:
    f = tmp_path / "peers.yaml"
    f.write_text("listen: 127.0.0.21:5400\npeers: [127.0.0.22:5400]\ntimeout_ms: 30\n"
                 "workers: false\n")
    s = settings(LAB, file=f, timeout_ms=40)
    assert s.listen == ("127.0.0.21", 5400) and s.members == ("127.0.0.22:5400",)
    assert s.timeout == 0.04 and s.workers is False


def test_local_workers_use_unix_sockets(tmp_path: Path) -> None:
    s = settings(PRODUCTION).for_process(0, 3, tmp_path, b"x" * 32)
    assert s.self_id == f"unix:{tmp_path}/worker0.sock" and len(s.siblings) == 2
    assert s.enabled and s.secret == b"x" * 32
    assert not settings(PRODUCTION).for_process(0, 1, tmp_path, None).enabled


@pytest.mark.parametrize("kwargs,message", [
    ({"listen": "127.0.0.1:5400", "peers": ["10.0.0.2:5400"]}, "--peer: 10.0.0.2 is outside"),
    ({"peers": ["127.0.0.2:5400"]}, "need this instance's own peer address"),
    ({"listen": "127.0.0.1:5400", "peers": ["127.0.0.1:5400"]}, "own --peer-listen"),
    ({"listen": "127.0.0.1:5400", "peers": ["127.0.0.2:9-5"]}, "port range"),
    ({"listen": "127.0.0.1"}, "--peer-listen: '127.0.0.1' is not ADDRESS:PORT"),
    ({"timeout_ms": 5000}, "--peer-timeout-ms: expected a positive number of milliseconds "
                           "at most 1000"),
    ({"allow": ["10.0.0.0/8"]}, "--peer-allow: 10.0.0.0/8 is outside"),
])
def test_bad_values_are_one_line_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as e:
        settings(LAB, **kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(e.value)


def test_bad_files_are_one_line_errors(tmp_path: Path) -> None:
    short = tmp_path / "short.key"
    short.write_bytes(b"abc")
    with pytest.raises(ConfigError, match="short.key: the secret is 3 bytes"):
        settings(PRODUCTION, secret_file=short)
    with pytest.raises(ConfigError, match="cannot read"):
        settings(PRODUCTION, secret_file=tmp_path / "missing")
    f = tmp_path / "p.yaml"
    f.write_text("listen: [\n")
    with pytest.raises(ConfigError, match=r"p.yaml:\d+: not YAML"):
        settings(PRODUCTION, file=f)
    f.write_text("lisen: 127.0.0.1:1\n")
    with pytest.raises(ConfigError, match="unknown key 'lisen'"):
        settings(PRODUCTION, file=f)
    f.write_text("peers: 127.0.0.1:1\n")
    with pytest.raises(ConfigError, match="peers: expected a list"):
        settings(PRODUCTION, file=f)
