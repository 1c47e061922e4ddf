"""``shadowdns run --check``: the plan of a run, validated and printed, nothing bound or sent.

Documentation-range addresses (RFC 5737, RFC 3849) are what a real deployment would name:
accepted in production mode, refused in lab mode.  They are only validated here, never
contacted: ``--check`` starts nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONFIG = """\
intake:
  - {{kind: dnstap, tcp: "[2001:db8::10]:6000", allow: ["2001:db8::/64"]}}
  - {{kind: udp_mirror, listen: "192.0.2.10:5300", allow: [198.51.100.0/24, "2001:db8:1::/48"]}}
  - {{kind: query_list, file: {tmp}/names.txt}}
candidate: {{root_hints: {tmp}/root.hints, egress: 203.0.113.5}}
references:
  - {{name: staging, kind: address, listen: "[2001:db8::53]:53"}}
  - {{name: ub, kind: unbound, listen: "203.0.113.53:5053", egress: "2001:db8::99",
     root_hints: {tmp}/root.hints, validate: false, workdir: {tmp}/ub}}
sampler: {{exclude_clients: [192.0.2.128/25]}}
dispatcher: {{target_qps: 500}}
api: {{listen: "[2001:db8::1]:8053"}}
store: {{path: {tmp}/shadow.db}}
"""

HINTS = """\
. 3600000 NS a.root-servers.net.
a.root-servers.net. 3600000 A 198.51.100.4
a.root-servers.net. 3600000 A 192.0.2.4
"""


def _check(tmp_path: Path, extra: str = "", *flags: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "root.hints").write_text(HINTS)
    config = tmp_path / "shadow.yaml"
    config.write_text(CONFIG.format(tmp=tmp_path) + extra)
    return subprocess.run(
        [sys.executable, "-m", "shadowdns", "run", "--config", str(config), "--check", *flags],
        capture_output=True, text=True, timeout=60)


def test_production_config_prints_its_plan_and_exits_0(tmp_path: Path) -> None:
    done = _check(tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "address policy: production" in out
    bind = out[out.index("bind:"):out.index("send to:")]
    assert ("intake[0] dnstap: Frame Streams on tcp [2001:db8::10]:6000 (documentation range), "
            "accepting from 2001:db8::/64") in bind
    assert ("udp 192.0.2.10:5300 (documentation range), accepting from 198.51.100.0/24, "
            "2001:db8:1::/48; never answers") in bind
    assert "api: http on tcp [2001:db8::1]:8053" in bind
    assert "reference ub (unbound, started here): udp and tcp 203.0.113.53:5053" in bind
    assert f"intake[2] query_list: file {tmp_path}/names.txt" in bind
    send = out[out.index("send to:"):]
    assert ("candidate candidate: in this process; sends from 203.0.113.5 to 2 root server "
            "address(es), port 53: 192.0.2.4 (documentation range), 198.51.100.4") in send
    assert "reference staging: [2001:db8::53]:53" in send
    assert "reference ub: 203.0.113.53:5053" in send
    assert "which sends from 2001:db8::99 to 2 root server address(es)" in send
    assert "never compared: clients in 192.0.2.128/25" in out
    assert "rate cap per target: 500 queries/s" in out
    assert out.rstrip().endswith("nothing was bound, started or sent")
    # nothing was created either: no store, no reference workdir
    assert not (tmp_path / "shadow.db").exists()
    assert not (tmp_path / "ub").exists()


def test_the_same_config_in_lab_mode_exits_2_naming_the_key(tmp_path: Path) -> None:
    done = _check(tmp_path, "lab: run/lab\n")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == (
        f"shadowdns run: {tmp_path}/shadow.yaml:2: intake[0].tcp: 2001:db8::10 is outside "
        "127.0.0.0/8 and ::1: loopback only (lab mode, set by lab: run/lab)")
    flagged = _check(tmp_path, "", "--lab", "run/lab")
    assert flagged.returncode == 2
    assert "(lab mode, set by --lab run/lab)" in flagged.stderr
    assert "Traceback" not in done.stderr + flagged.stderr


def test_a_flag_in_lab_mode_is_named_too(tmp_path: Path) -> None:
    config = tmp_path / "shadow.yaml"
    config.write_text("intake: [{kind: query_list, file: n.txt}]\nlab: run/lab\n")
    done = subprocess.run(
        [sys.executable, "-m", "shadowdns", "run", "--config", str(config), "--check",
         "--reference", "x=address@203.0.113.9:53"],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert ("--reference x=address@203.0.113.9:53: 203.0.113.9 is outside 127.0.0.0/8"
            in done.stderr)  # the flag that set it, not the key
