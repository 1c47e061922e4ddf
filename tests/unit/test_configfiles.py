"""configfiles: the one ConfigError and the one YAML reader every package uses."""

from __future__ import annotations

from pathlib import Path

import dns.name
import pytest

from configfiles import ConfigError, parse_yaml, read_text, read_yaml


def test_config_error_names_source_key_and_detail() -> None:
    e = ConfigError("must be positive", source="shadow.yaml", key="sampler.rate")
    assert str(e) == "shadow.yaml: sampler.rate: must be positive"
    assert (e.source, e.key, e.detail) == ("shadow.yaml", "sampler.rate", "must be positive")
    assert str(ConfigError("plain")) == "plain"
    assert str(ConfigError("cannot read", source="f.yaml")) == "f.yaml: cannot read"
    assert str(ConfigError("bad", source="f.yaml", line=7)) == "f.yaml:7: bad"


def test_yaml_syntax_errors_are_one_line_with_file_and_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("a: 1\nb: [unclosed\nc: 2\n", "w.yaml")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("w.yaml:3: not valid YAML: ")
    assert caught.value.line == 3
    assert parse_yaml("a: [1, 2]\n", "w.yaml") == {"a": [1, 2]}
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_yaml("!!python/object:os.system {}\n", "w.yaml")  # safe types only


def test_unreadable_and_binary_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing.yaml: cannot read: No such file"):
        read_text(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match=r"cannot read"):
        read_text(tmp_path)  # a directory
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match=r"b.yaml: not a text file \(.* at byte 0\)"):
        read_yaml(binary)
    good = tmp_path / "g.yaml"
    good.write_text("k: v\n")
    assert read_yaml(good) == ({"k": "v"}, "k: v\n")


def test_one_root_hints_reader_for_the_candidate_and_the_references(tmp_path: Path) -> None:
    from configfiles.roothints import read_root_hints
    from legacy_adapter import LabFileError
    from legacy_adapter import read_root_hints as reference_hints
    from netpolicy import LAB

    path = tmp_path / "root.hints"
    path.write_text(". NS a.lab.\n. NS b.lab.\nb.lab. AAAA ::1\nb.lab. A 127.53.0.2\n"
                    "a.lab. A 127.53.0.1\n")
    want = (("a.lab.", "127.53.0.1"), ("b.lab.", "127.53.0.2"), ("b.lab.", "::1"))
    assert read_root_hints(path, LAB) == reference_hints(path, LAB) == want
    path.write_text(". NS a.lab.\na.lab. A 192.0.2.1\n")
    with pytest.raises(ConfigError, match=r"root.hints:2: a.lab.: 192.0.2.1 is outside"):
        read_root_hints(path, LAB)
    with pytest.raises(LabFileError, match=r"root.hints:2: a.lab.: 192.0.2.1 is outside"):
        reference_hints(path, LAB)
    assert read_root_hints(path) == (("a.lab.", "192.0.2.1"),)  # production: any address


def test_one_trust_anchor_parser_for_the_candidate_and_the_references(tmp_path: Path) -> None:
    from legacy_adapter import LabFileError
    from legacy_adapter import read_trust_anchors as reference_anchors
    from resolver.dnssec.anchors import TrustAnchorError, TrustAnchors

    ds = ". 3600 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"
    path = tmp_path / "anchors"
    path.write_text(f"; a comment\n# a comment line too\n{ds}\n")
    assert reference_anchors(path) == (ds.lower().replace("in ds", "IN DS"),)
    assert len(TrustAnchors.from_file(path).ds_for(dns.name.root)) == 1
    # A DNSKEY without the ZONE flag (256 = ZONE; 0 = none) is refused by both, at its line.
    key = "0 3 13 " + "A" * 88
    path.write_text(f"{ds}\n. 3600 IN DNSKEY {key}\n")
    with pytest.raises(LabFileError, match=r"anchors:2: DNSKEY without the ZONE flag"):
        reference_anchors(path)
    with pytest.raises(TrustAnchorError, match=r"anchors:2: DNSKEY without the ZONE flag"):
        TrustAnchors.from_file(path)
