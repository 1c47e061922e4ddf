"""Managed references off the lab use their distribution's root hints and root trust anchor
(``ReferenceSpec.distribution_root``); on the lab they render exactly as before.  Only configs
are rendered and checked here; nothing is started."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.assemble import build_targets
from harness.config import config_from_mapping
from harness.targets import AddressTarget
from legacy_adapter import KnotResolver, ManagedResolver, ReferenceSpec, Unbound
from legacy_adapter.implementations import DISTRIBUTION_ROOT_KEY
from resolver.app import host_has_global_ipv6
from tests.unit.test_legacy_adapter import DS, HINTS, make_spec


def distribution(tmp_path: Path, **changes: object) -> ReferenceSpec:
    fields: dict[str, object] = {"root_hints": (), "trust_anchors": (),
                                 "distribution_root": True}
    return make_spec(tmp_path, **{**fields, **changes})


@pytest.mark.parametrize("field, value", [("root_hints", HINTS), ("trust_anchors", (DS,))])
def test_distribution_root_excludes_own_hints_and_anchors(tmp_path: Path, field: str,
                                                           value: object) -> None:
    with pytest.raises(ValueError, match=f"^{field}: given with distribution_root=True"):
        distribution(tmp_path, **{field: value})


def test_lab_specs_still_need_hints_and_anchors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="^root_hints:"):
        make_spec(tmp_path, root_hints=())
    with pytest.raises(ValueError, match="^trust_anchors:"):
        make_spec(tmp_path, trust_anchors=())


def test_unbound_uses_its_own_hints_and_dns_root_data_anchor(tmp_path: Path) -> None:
    unbound = Unbound(distribution(tmp_path))
    text = unbound.render_config()
    assert "root-hints:" not in text
    assert f'trust-anchor-file: "{DISTRIBUTION_ROOT_KEY}"' in text
    assert 'module-config: "validator iterator"' in text
    assert set(unbound.render_files()) == {"unbound.conf"}
    lab = Unbound(make_spec(tmp_path))
    assert f'root-hints: "{lab.root_hints_path}"' in lab.render_config()
    assert f'trust-anchor-file: "{lab.trust_anchor_path}"' in lab.render_config()
    off = Unbound(distribution(tmp_path, validate=False)).render_config()
    assert "trust-anchor-file" not in off and 'module-config: "iterator"' in off


def test_ip6_only_when_asked(tmp_path: Path) -> None:
    assert "do-ip6: no" in Unbound(make_spec(tmp_path)).render_config()
    assert "do-ip6: yes" in Unbound(distribution(tmp_path, ip6=True)).render_config()
    assert "net.ipv6 = false" in KnotResolver(make_spec(tmp_path, kind="kresd")).render_config()
    assert "net.ipv6 = true" in KnotResolver(
        distribution(tmp_path, kind="kresd", ip6=True)).render_config()


@pytest.mark.skipif(
    shutil.which("unbound-checkconf", path="/usr/sbin:/usr/bin") is None
    or not DISTRIBUTION_ROOT_KEY.exists(),
    reason="unbound-checkconf or dns-root-data not installed",
)
def test_unbound_accepts_the_distribution_config(tmp_path: Path) -> None:
    unbound = Unbound(distribution(tmp_path, ip6=True))
    unbound.write_files()
    checkconf = shutil.which("unbound-checkconf", path="/usr/sbin:/usr/bin")
    assert checkconf is not None
    done = subprocess.run([checkconf, str(unbound.config_path)], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


def test_kresd_keeps_its_built_in_hints_and_root_key(tmp_path: Path) -> None:
    text = KnotResolver(distribution(tmp_path, kind="kresd")).render_config()
    assert "hints.root(" not in text and "trust_anchors.remove('.')" not in text
    off = KnotResolver(distribution(tmp_path, kind="kresd", validate=False)).render_config()
    assert "trust_anchors.remove('.')" in off  # no validation: the built-in key goes too
    lab = KnotResolver(make_spec(tmp_path, kind="kresd")).render_config()
    assert "hints.root(" in lab and "trust_anchors.remove('.')" in lab


def _reference_spec(tmp_path: Path, **reference: object) -> ReferenceSpec:
    config = config_from_mapping({
        "intake": [{"kind": "query_list", "file": str(tmp_path / "names.txt")}],
        "candidate": {"address": "127.0.0.12:5353"},
        "references": [{"name": "kresd", "kind": "kresd", "listen": "127.55.0.2:5053",
                        **reference}],
        "store": {"path": str(tmp_path / "shadow.db")},
    })
    target = build_targets(config)[1]
    assert isinstance(target, AddressTarget) and isinstance(target.reference, ManagedResolver)
    return target.reference.spec


def test_harness_reference_without_lab_or_hints_uses_the_distribution_root(
        tmp_path: Path) -> None:
    spec = _reference_spec(tmp_path)
    assert spec.distribution_root and spec.validate and spec.root_hints == ()
    assert spec.ip6 == host_has_global_ipv6()
    assert not _reference_spec(tmp_path, validate=False).validate
    hints = tmp_path / "root.hints"
    hints.write_text(". 3600 IN NS a.root.\na.root. 3600 IN A 127.53.0.1\n")
    own = _reference_spec(tmp_path, root_hints=str(hints))
    assert not own.distribution_root and own.root_hints == (("a.root.", "127.53.0.1"),)
