"""Trust anchors from files and records, negative trust anchors, and their errors."""

from __future__ import annotations

from pathlib import Path

import dns.dnssec
import dns.name
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from configfiles import ConfigError
from resolver.app import trust_anchors
from resolver.config import ResolverConfig
from resolver.dnssec.anchors import TrustAnchorError, TrustAnchors

N = dns.name.from_text


def _key(flags: int = 257) -> str:
    private = ec.generate_private_key(ec.SECP256R1())
    return dns.dnssec.make_dnskey(private.public_key(), 13, flags).to_text()


DS_ROOT = ". 86400 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"
DS_ROOT2 = ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16"


def test_ds_and_dnskey_anchors_several_per_name(tmp_path: Path) -> None:
    key = _key()
    head, tail = key[:40], key[40:]
    text = f"""; the lab's anchors
{DS_ROOT}
{DS_ROOT2}   ; a rolled key beside the old one
example. 3600 IN DNSKEY {head} (
        {tail} )
$TTL 3600
"""
    path = tmp_path / "anchors"
    path.write_text(text)
    anchors = TrustAnchors.from_file(path, negative=["broken."])
    assert len(anchors.ds_for(dns.name.root)) == 2
    assert len(anchors.keys_for(N("example."))) == 1
    assert anchors.zones == {dns.name.root, N("example.")}
    assert anchors.closest(N("www.example.")) == N("example.")
    assert anchors.closest(N("www.other.")) == dns.name.root
    assert anchors.is_negative(N("www.broken.")) and not anchors.is_negative(N("broken2."))


def test_negative_anchor_above_a_deeper_anchor_does_not_override_it() -> None:
    anchors = TrustAnchors.from_records(
        [DS_ROOT, f"sub.lab. IN DNSKEY {_key()}"], negative=["lab."]
    )
    assert anchors.is_negative(N("www.lab."))
    assert not anchors.is_negative(N("www.sub.lab."))  # the deeper anchor wins


def test_no_anchors_is_false() -> None:
    assert not TrustAnchors()
    assert not TrustAnchors.from_records([], negative=["x."])
    assert TrustAnchors.from_records([DS_ROOT])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (". IN A 127.0.0.1", ":1: a trust anchor is a DS or DNSKEY record, not A"),
        ("\n. IN DS 1 2 3", ":2: bad DS record"),
        (". IN DNSKEY 256 3 13 (", ":1: '(' is never closed"),
        (". IN DS 1 8 2 ab )", ":1: unbalanced ')'"),
        (". 3600", ":1: record has no type"),
        ("$ORIGIN lab.", ":1: directive $ORIGIN is not supported"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "ta"
    path.write_text(text)
    with pytest.raises(TrustAnchorError) as e:
        TrustAnchors.from_file(path)
    assert str(e.value).startswith(str(path)) and problem in str(e.value)


def test_dnskey_anchor_needs_the_zone_flag() -> None:
    with pytest.raises(TrustAnchorError, match="ZONE flag"):
        TrustAnchors.from_records([f". IN DNSKEY {_key(flags=0)}"])


def test_missing_or_empty_file(tmp_path: Path) -> None:
    with pytest.raises(TrustAnchorError, match="cannot read"):
        TrustAnchors.from_file(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.write_text("; nothing\n")
    with pytest.raises(TrustAnchorError, match="no DS or DNSKEY"):
        TrustAnchors.from_file(empty)


def test_config_anchors_file_records_and_negative(tmp_path: Path) -> None:
    path = tmp_path / "ta"
    path.write_text(DS_ROOT + "\n")
    config = ResolverConfig(trust_anchor_file=path, trust_anchors=(DS_ROOT2,),
                            negative_trust_anchors=("broken.",))
    anchors = trust_anchors(config)
    assert len(anchors.ds_for(dns.name.root)) == 2 and anchors.is_negative(N("x.broken."))
    with pytest.raises(ConfigError, match="bad negative trust anchor"):
        trust_anchors(ResolverConfig(negative_trust_anchors=("a..b",)))


def test_unusable_anchor_keeps_its_zone_anchored() -> None:
    zone = dns.name.from_text("example.")
    anchors = TrustAnchors(unusable=frozenset({zone}))
    assert anchors and zone in anchors.zones
    assert anchors.closest(dns.name.from_text("www.example.")) == zone
    assert anchors.ds_for(zone) == () and anchors.keys_for(zone) == ()
    merged = TrustAnchors().merged(anchors)
    assert merged.unusable == {zone}
    with pytest.raises(TrustAnchorError, match="bad DS record"):
        # a SHA-256-sized digest labelled SHA-1: an operator's file gets an error, not a shrug
        TrustAnchors.from_records(["example. IN DS 12345 8 1 " + "AB" * 32])
