"""Bad input on the command line: one line naming the flag or FILE[:LINE], exit status 2, no
traceback, nothing recorded or changed.  Run as the user runs it: ``python -m shadowdns``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import dns.message
import dns.rcode
import pytest

ROOT = Path(__file__).resolve().parents[2]
GARBAGE = bytes(range(256)) * 12  # binary: control characters, bytes that are not UTF-8


def shadowdns(*argv: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "SHADOWDNS_DEBUG")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "shadowdns", *argv], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=timeout)


def one_line_error(done: subprocess.CompletedProcess[str], *parts: str, code: int = 2) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == code, done.stderr
    assert lines, "no error message"
    last = lines[-1]
    for part in parts:
        assert part in last, (part, done.stderr)
    return last


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "garbage.bin").write_bytes(GARBAGE)
    (tmp_path / "corrupt.db").write_bytes(b"not SQLite: " + GARBAGE)
    (tmp_path / "hints-bad-line").write_text(". 3600 IN NS a.root.\nthis is no record\n")
    (tmp_path / "hints").write_text(". 3600 IN NS a.root.\na.root. 3600 IN A 127.0.0.1\n")
    (tmp_path / "anchor-bad-line").write_text("; a comment\n. 3600 IN DS 1 2 3\n")
    (tmp_path / "names").write_text("www.example.lab. A\n")
    (tmp_path / "a-dir").mkdir()
    return tmp_path


@pytest.mark.parametrize("argv", [["explain", "1"], [], ["compare", "1", "2"],
                                  ["--format", "json"]])
def test_report_on_a_file_that_is_not_a_store(files: Path, argv: list[str]) -> None:
    store = files / "corrupt.db"
    before = store.read_bytes()
    done = shadowdns("report", *argv, "--db", str(store), cwd=files)
    one_line_error(done, "shadowdns report:", f"{store}: not a shadowdns store")
    assert store.read_bytes() == before


@pytest.mark.parametrize(("argv", "expected"), [
    (["--root-hints", "garbage.bin"], "--root-hints garbage.bin: not a text file"),
    (["--root-hints", "missing"], "--root-hints missing: cannot read"),
    (["--root-hints", "a-dir"], "--root-hints a-dir: cannot read"),
    (["--root-hints", "hints-bad-line"], "--root-hints hints-bad-line:2: "),
    (["--root-hints", "hints", "--trust-anchor", "garbage.bin"],
     "--trust-anchor garbage.bin: not a text file"),
    (["--root-hints", "hints", "--trust-anchor", "anchor-bad-line"],
     "--trust-anchor anchor-bad-line:2: bad DS record"),
])
def test_resolver_serve_bad_files(files: Path, argv: list[str], expected: str) -> None:
    done = shadowdns("resolver", "serve", "--listen", "127.0.0.77:5399", "--workers", "1",
                     *argv, cwd=files, timeout=60)
    one_line_error(done, "shadowdns resolver:", expected)


NO_REFERENCE = ["--reference", "address@127.0.0.99:5300", "--candidate", "127.0.0.98:5300"]


@pytest.mark.parametrize(("argv", "expected"), [
    (["--pcap", "garbage.bin"], "--pcap garbage.bin: not a pcap or pcapng file"),
    (["--pcap", "missing.pcap"], "--pcap missing.pcap: cannot read"),
    (["--dnstap-file", "garbage.bin"], "--dnstap-file garbage.bin: not a Frame Streams"),
    (["--query-list", "garbage.bin"], "--query-list garbage.bin: not a query list"),
    (["--query-list", "a-dir"], "--query-list a-dir: cannot read"),
    (["--config", "garbage.bin"], "--config garbage.bin: not a text file"),
    (["--config", "missing.yaml"], "--config missing.yaml: cannot read"),
    (["--query-list", "names", "--sample", "2"], "--sample: 2.0 must be <= 1"),
    (["--query-list", "names", "--timeout", "0"], "--timeout: 0.0 must be > 0"),
    (["--query-list", "names", "--lab", ".", "--api", "10.0.0.1:80"],
     "--api: 10.0.0.1 is outside"),
    (["--sample", "0.5"], "no input: give --dnstap-socket"),
])
def test_run_bad_input_is_one_line_and_records_nothing(files: Path, argv: list[str],
                                                       expected: str) -> None:
    existing = files / "kept.db"
    existing.write_bytes(b"whatever was there")
    for db in (existing, files / "new.db"):
        done = shadowdns("run", *argv, *NO_REFERENCE, "--db", str(db), "--live", "off",
                         cwd=files)
        line = one_line_error(done, "shadowdns run:", expected)
        assert "<flags>" not in line
    assert existing.read_bytes() == b"whatever was there"
    assert not (files / "new.db").exists()


@pytest.mark.parametrize(("db", "expected"), [
    ("garbage.bin", "--db garbage.bin: not a shadowdns store"),
    ("a-dir", "--db a-dir: is a directory"),
    ("other.db", "--db other.db: an SQLite database of something else"),
])
def test_run_never_writes_into_what_is_not_its_store(files: Path, db: str, expected: str) -> None:
    import sqlite3

    other = sqlite3.connect(files / "other.db")
    other.execute("CREATE TABLE notes (text TEXT)")
    other.commit()
    other.close()
    before = (files / "other.db").read_bytes()
    done = shadowdns("run", "--query-list", "names", *NO_REFERENCE, "--db", db, cwd=files)
    one_line_error(done, expected)
    assert (files / "garbage.bin").read_bytes() == GARBAGE
    assert (files / "other.db").read_bytes() == before


def test_run_says_what_is_missing_in_flags(files: Path) -> None:
    done = shadowdns("run", "--query-list", "names", cwd=files)
    one_line_error(done, "shadowdns run: no reference: give --reference")
    done = shadowdns("run", "--query-list", "names", "--reference", "address@127.0.0.99:53",
                     "--lab", "nolab", cwd=files)
    one_line_error(done, "--lab: nolab has no root.hints (is the lab up?)")
    assert "<flags>" not in done.stderr


def test_run_never_replaces_a_file_with_its_dnstap_socket(files: Path) -> None:
    mine = files / "notes.txt"
    mine.write_text("the user's own file\n")
    done = shadowdns("run", "--dnstap-socket", "notes.txt", *NO_REFERENCE, "--db", "new.db",
                     cwd=files)
    one_line_error(done, "--dnstap-socket notes.txt: exists and is not a socket")
    assert mine.read_text() == "the user's own file\n"


def test_run_names_the_first_malformed_query_list_lines(files: Path) -> None:
    names = files / "names.txt"
    names.write_text("bad..name\nok.lab. A\nx.lab. NOTATYPE\n\n# fine\na b c\nz. A\nq..q\nw..w\n"
                     + "".join(f"n{i}.lab. AAAA\n" for i in range(5)))
    done = shadowdns("run", "--query-list", str(names), "--query-list", "garbage.bin",
                     *NO_REFERENCE, "--db", str(files / "new.db"), cwd=files)
    one_line_error(done, "--query-list garbage.bin")  # all files are read before the start
    warning = next(line for line in done.stderr.splitlines() if "malformed" in line)
    assert f"{names}: 5 malformed lines skipped" in warning
    assert f"{names}:1: 'bad..name' is not a domain name" in warning
    assert f"{names}:3: 'NOTATYPE' is not a record type" in warning
    assert f"{names}:6: too many fields" in warning
    assert "and 2 more" in warning and f"{names}:8" not in warning


def test_run_yaml_errors_name_the_file_line_and_key(files: Path) -> None:
    config = files / "shadow.yaml"
    config.write_text("intake:\n  - kind: pcap\n    file: garbage.bin\n"
                      "sampler:\n  salt: x\n  probability: 3\n")
    done = shadowdns("run", "--config", str(config), *NO_REFERENCE, cwd=files)
    one_line_error(done, f"{config}:6: sampler.probability: 3 must be <= 1")
    config.write_text("# a capture\nintake:\n  - kind: pcap\n    file: garbage.bin\n")
    done = shadowdns("run", "--config", str(config), *NO_REFERENCE, cwd=files)
    one_line_error(done, f"{config}:4: intake[0].file: garbage.bin: not a pcap or pcapng file")


@pytest.mark.parametrize(("argv", "expected"), [
    (["lab", "names", "--world", "garbage.bin"], "garbage.bin: (file): not a text file"),
    (["lab", "names", "--world", "missing.yaml"], "missing.yaml: (file): cannot read"),
    (["deckard", "run", "a-dir", "--known-failures", "garbage.bin"],
     "garbage.bin: not a text file"),
])
def test_other_file_flags(files: Path, argv: list[str], expected: str) -> None:
    one_line_error(shadowdns(*argv, cwd=files), expected)


# -- a capture that breaks off after the run started --------------------------------------


def test_a_capture_that_breaks_off_ends_the_run_non_zero(files: Path,
                                                        tiny_dns: Callable[..., int]) -> None:
    answering = f"127.0.0.1:{tiny_dns(data=False)}"
    import dpkt

    with (files / "good.pcap").open("wb") as handle:
        writer = dpkt.pcap.Writer(handle, linktype=101)  # raw IP
        for i in range(5):
            query = dns.message.make_query(f"p{i}.example.", "A").to_wire()
            udp = dpkt.udp.UDP(sport=4000 + i, dport=53, data=query)
            udp.ulen = len(udp)
            ip = dpkt.ip.IP(src=socket.inet_aton("127.0.0.5"), dst=socket.inet_aton("127.0.0.53"),
                            p=dpkt.ip.IP_PROTO_UDP, data=udp)
            ip.len = len(ip)
            writer.writepkt(bytes(ip), ts=1.0 + i)
    data = (files / "good.pcap").read_bytes()
    (files / "cut.pcap").write_bytes(data[:-20])
    done = shadowdns("run", "--pcap", "cut.pcap", "--reference", f"address@{answering}",
                     "--candidate", answering, "--db", "s.db", "--live", "off",
                     "--judge", "exact", cwd=files)
    line = one_line_error(done, "pcap cut.pcap", "corrupt", code=1)
    assert "recorded" in line
    assert "compared 4" in done.stdout  # what was read before the break is kept


# -- the guard in main() --------------------------------------------------------------------


def _failing(error: BaseException, monkeypatch: pytest.MonkeyPatch) -> None:
    """``shadowdns lab`` made to raise ``error``."""
    import argparse

    import shadowdns.cli

    def build_parser() -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(prog="shadowdns")
        sub = parser.add_subparsers(dest="command", required=True)

        def fail(_args: argparse.Namespace) -> int:
            raise error

        sub.add_parser("lab").set_defaults(func=fail)
        return parser

    monkeypatch.setattr(shadowdns.cli, "build_parser", build_parser)


def test_a_bug_is_one_line_and_the_traceback_goes_to_a_file(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    from shadowdns.cli import EXIT_INTERNAL, main

    monkeypatch.delenv("SHADOWDNS_DEBUG", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    _failing(KeyError("surprise"), monkeypatch)
    assert main(["lab"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "shadowdns lab: internal error: KeyError: 'surprise'" in err
    saved = list(tmp_path.glob("shadowdns-traceback-*.txt"))
    assert len(saved) == 1 and str(saved[0]) in err
    assert "Traceback" in saved[0].read_text() and "KeyError" in saved[0].read_text()
    monkeypatch.setenv("SHADOWDNS_DEBUG", "1")
    assert main(["lab"]) == EXIT_INTERNAL
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_a_user_error_or_a_file_error_is_one_line_exit_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from shadowdns.cli import UserError, main

    _failing(UserError("--thing: not good"), monkeypatch)
    assert main(["lab"]) == 2
    assert capsys.readouterr().err == "shadowdns lab: --thing: not good\n"
    _failing(IsADirectoryError(21, "Is a directory", "out/"), monkeypatch)
    assert main(["lab"]) == 2
    assert capsys.readouterr().err == "shadowdns lab: out/: Is a directory\n"
    _failing(OSError(98, "Address already in use"), monkeypatch)
    assert main(["lab"]) == 1
    assert capsys.readouterr().err == "shadowdns lab: Address already in use\n"


@pytest.mark.parametrize(("argv", "expected"), [
    (["compare", "incomplete.json", "store.db"],
     "incomplete.json: not a complete shadowdns report"),
    (["--output", "missing-dir/report.txt"], "missing-dir/report.txt: No such file or directory"),
    (["--format", "json", "--output", "a-dir"], "a-dir: Is a directory"),
])
def test_report_bad_inputs_and_outputs(files: Path, argv: list[str], expected: str) -> None:
    from reports.synthetic import generate

    store = files / "store.db"
    generate(store, observations=300, names=50)
    before = store.read_bytes()
    (files / "incomplete.json").write_text('{"format": "shadowdns-report", "version": 1}')
    done = shadowdns("report", *argv, "--db", str(store), cwd=files)
    one_line_error(done, "shadowdns report:", expected)
    assert store.read_bytes() == before
