"""Check tests/scenarios/kresd7 against the real Knot Resolver (kresd 5.x on PATH), with each
scenario's knobs in kresd's configuration as Deckard's kresd template writes them.

``deckard run --reference kresd`` starts kresd without the kresd-only knobs, so this starts
one kresd per scenario itself (hints/dns64/renumber modules, the feature-list Lua lines;
priming and the time-skew check off: they would ask the scenario's root before its servers
are up) and drives it with ``shadowdns deckard run FILE --resolver 127.0.0.1:PORT``.  Files
with TIME_PASSES are left out (a real resolver's clock does not jump), and so is FORWARD
(the network mode plays no forward zones).  Run it from the repository root under
``flock /tmp/shadowdns-net.lock``: ``python tests/scenarios/src/check_kresd7_reference.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deckard.scenario import load

PORT = 5399
SET = Path("tests/scenarios/kresd7")


def kresd_config(path: Path, workdir: Path) -> str:
    c = load(path).config
    feats = dict(c.features)
    lua = [f"net.listen('127.0.0.1', {PORT}, {{kind='dns'}})", "net.ipv6 = false",
           f"cache.open(10*MB, 'lmdb://{workdir}/cache')",
           "modules.load('hints > iterate')",
           f"hints.root({{['{c.stub_name}'] = '{c.stub_addr}'}})",
           "modules.unload('ta_signal_query')", "modules.unload('priming')",
           "modules.unload('detect_time_skew')", "trust_anchors.remove('.')",
           "policy.add(policy.all(policy.FLAGS({'ALLOW_LOCAL', 'NO_MINIMIZE'})))"]
    if "static_hint_name" in feats:
        lua.append(f"hints.set('{feats['static_hint_name']} {feats['static_hint_addr']}')")
    if "dns64_prefix" in feats:
        lua += ["modules.load('dns64')", f"dns64.config('{feats['dns64_prefix']}')"]
    if "renumber_src" in feats:
        lua += ["modules.load('renumber')",
                f"renumber.config({{{{'{feats['renumber_src']}', '{feats['renumber_dst']}'}}}})"]
    lua += [line.split("=", 1)[1] for line in c.feature_list]
    return "\n".join(lua) + "\n"


def main() -> int:
    failed = 0
    for f in sorted(SET.glob("*.rpl")):
        if "TIME_PASSES" in f.read_text():
            print(f"{f.stem}: left out (TIME_PASSES)")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            wd = Path(tmp)
            (wd / "config").write_text(kresd_config(f, wd))
            with open(wd / "log", "w") as log:
                proc = subprocess.Popen(["kresd", "-n", "-q", "-c", str(wd / "config"), tmp],
                                        stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
            try:
                time.sleep(1.0)
                run = subprocess.run([shutil.which("shadowdns") or ".venv/bin/shadowdns",
                                      "deckard", "run", str(f), "--resolver",
                                      f"127.0.0.1:{PORT}"], capture_output=True, text=True)
            finally:
                proc.terminate()
                proc.wait()
        lines = run.stdout.strip().splitlines()
        print(f"{f.stem}: {lines[-1] if lines else run.stderr.strip()[-200:]}")
        failed += run.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
