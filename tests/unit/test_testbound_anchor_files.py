"""Trust anchors from files in the testbound dialect (issue 16, helper "runner"):
trust-anchor-file, trusted-keys-file and auto-trust-anchor-file read testbound's temporary
files (TEMPFILE_NAME / TEMPFILE_CONTENTS / $INCLUDE_TEMPFILE, AUTOTRUST_FILE), as
unbound.conf(5) describes the three formats (the scenarios of
tests/scenarios/testbound/anchor_files are run by test_testbound_own_sets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deckard.scenario import parse
from deckard.text import ScenarioError
from tests.unit.test_testbound import ANCHOR, scenario_text

KEY = "257 3 13 l4zAeUkBFhnV/lTV8V76a4WRbiUCdw2s +5eNkw4ysP7WckZbiffLxsGAneIMUFFG"


def anchors(extra: str, files: str = "") -> list[tuple[str, str]]:
    text = scenario_text(extra).replace("CONFIG_END", files + "CONFIG_END", 1)
    s = parse(Path("x.rpl"), text)
    assert s.unsupported == ()
    return [(rr.name.to_text(), rr.rdtype.name) for rr in s.config.validation.trust_anchors]


def temp(ident: str, body: str) -> str:
    return f"TEMPFILE_CONTENTS {ident}\n{body}\nTEMPFILE_END\n"


def test_trust_anchor_file_reads_zone_file_syntax() -> None:
    body = f"$ORIGIN com.\n$TTL 60\n{ANCHOR}\nexample IN DNSKEY ( 257 3 13 ; a comment\n" \
           "  l4zAeUkBFhnV/lTV8V76a4WRbiUCdw2s )\n$INCLUDE_TEMPFILE more"
    got = anchors("\ttrust-anchor-file:\nTEMPFILE_NAME a.key",
                  temp("a.key", body)
                  + temp("more", ANCHOR.replace("example.com. 3600", "example.net.")))
    assert got == [("example.com.", "DS"), ("example.com.", "DNSKEY"), ("example.net.", "DS")]


def test_trusted_keys_file_reads_the_bind_clause() -> None:
    flags, b64 = KEY[:9], KEY[9:]
    body = (f'options {{ x; }};\ntrusted-keys {{\n  "example.org." {flags} "{b64}"; // comment\n'
            f'  example.com {flags} "{b64}"; /* another */\n}};')
    got = anchors("\ttrusted-keys-file:\nTEMPFILE_NAME bind", temp("bind", body))
    assert got == [("example.org.", "DNSKEY"), ("example.com.", "DNSKEY")]


def test_autotrust_keeps_valid_and_missing_keys_and_ds() -> None:
    lines = [";;id: example.com. 1", f"example.com. IN DNSKEY {KEY} ;;state=2 [ VALID ]",
             f"example.net. IN DNSKEY {KEY} ;;state=1 [ ADDPEND ]",
             f"example.org. IN DNSKEY {KEY} ;;state=4 [ MISSING ]",
             f"example.edu. IN DNSKEY {KEY} ;;state=5 [ REVOKED ]", ANCHOR]
    block = "AUTOTRUST_FILE example.com\n" + "\n".join(lines) + "\nAUTOTRUST_END\n"
    got = anchors("", block)
    assert got == [("example.com.", "DNSKEY"), ("example.org.", "DNSKEY"), ("example.com.", "DS")]


def test_a_path_on_disk_is_unsupported() -> None:
    s = parse(Path("x.rpl"), scenario_text('\ttrust-anchor-file: "/etc/unbound/root.key"'))
    assert s.unsupported == ("trust-anchor-file: not a testbound temporary file",)


@pytest.mark.parametrize(("extra", "files", "problem"), [
    ("", "TEMPFILE_CONTENTS x\nexample.com. IN DS 1 13 2 00\n", r"x.rpl:\d+: no TEMPFILE_END"),
    ("\tverbosity: 1\nTEMPFILE_NAME x", "", "TEMPFILE_NAME does not follow an option"),
    ("\ttrust-anchor-file:\nTEMPFILE_NAME x", "", "trust-anchor-file: no temporary file 'x'"),
    ("\ttrust-anchor-file:\nTEMPFILE_NAME x", temp("x", "example.com. IN A 10.0.0.1"),
     "not a DS or DNSKEY record"),
    ("\ttrust-anchor-file:\nTEMPFILE_NAME x", temp("x", "\n\nexample.com. IN DS 1 13 2 00"),
     r"x.rpl:\d+: trust-anchor-file: not zone file syntax: digest length"),
    ("\ttrusted-keys-file:\nTEMPFILE_NAME x", temp("x", 'trusted-keys { "a." 257; };'),
     "not 'name flags protocol algorithm"),
])
def test_bad_files_are_one_line_errors(extra: str, files: str, problem: str) -> None:
    with pytest.raises(ScenarioError, match=problem):
        parse(Path("x.rpl"), scenario_text(extra).replace("CONFIG_END", files + "CONFIG_END", 1))



@pytest.mark.parametrize("key", ["log-servfail", "val-log-level", "log-time-iso", "shm-enable",
                                 "statistics-inhibit-zero", "ede"])
def test_logging_keys_and_ede_are_no_ops(key: str) -> None:
    assert parse(Path("x.rpl"), scenario_text(f"\t{key}: yes")).unsupported == ()


def test_an_included_file_is_unsupported_even_before_a_clause() -> None:
    text = "include:\nTEMPFILE_NAME more.conf\n" + scenario_text()
    assert parse(Path("x.rpl"), text).unsupported == ("include",)
