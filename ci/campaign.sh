#!/usr/bin/env bash
# The reliability campaign, short (issue 24; docs/RELIABILITY.md has the full-length figures):
# fuzzed client packets (UDP, TCP, DoT, DoH), an off-path spoofing race and hostile authorities (bench chaos), then
# amplifying delegations next to Unbound (bench amplification), then a quiet client beside
# a cold flood at ~10x capacity (bench fairness, the front reader; reported, not gated: a
# latency figure is a benchmark's, not a test's).  Loopback only, about 2
# minutes; needs root (the lab binds port 53, the spoofer and sniffer use raw sockets).
# Fails on a crashed server, an accepted or cached forgery, a poisoned or wrong secure answer,
# or more upstream queries for one question than the candidate's cap.
#
# `ci/campaign.sh --full` (also `make chaos`): the full-length campaign, about 10 minutes --
# the chaos defaults with an 80-s client-packet phase (1,000,000+ packets even when the
# machine is shared), amplification, fairness, and 60 s per fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--full" ]; then
    out=run/campaign
    chaos=(--fuzz-seconds 80)
    settle=2
    fairness=(--seconds 8)
else
    out=run/ci-campaign
    chaos=(--fuzz-seconds 3 --spoof-seconds 3 --spoof-rate 1000 --resolve-rate 200
           --hostile-rounds 1)
    settle=1
    fairness=(--seconds 3)
fi
rm -rf "$out"
mkdir -p "$out"
.venv/bin/shadowdns bench chaos "${chaos[@]}" --run-dir "$out/chaos" --json "$out/chaos.json"
.venv/bin/shadowdns bench amplification --settle "$settle" --run-dir "$out/amplification" \
    --json "$out/amplification.json"
.venv/bin/shadowdns bench fairness --readers front --flood-rate 4000 "${fairness[@]}" \
    --run-dir "$out/fairness" --json "$out/fairness.json"
if [ "${1:-}" = "--full" ]; then
    .venv/bin/shadowdns bench fuzz --seconds 60 --run-dir "$out/fuzz" --json "$out/fuzz.json"
fi
.venv/bin/python - "$out/chaos.json" "$out/amplification.json" "$out/fairness.json" <<'PY'
import json
import sys

chaos = json.load(open(sys.argv[1]))
amp = json.load(open(sys.argv[2]))
fair = json.load(open(sys.argv[3]))[0]
f, s, h = chaos["fuzz"], chaos["spoof"], chaos["hostile"]
checks = {
    "fuzz: server processes exited": (f["crashed"], 0),
    "fuzz: DoT answers afterwards": (f["dot_answers_after"], True),
    "fuzz: DoH answers afterwards": (f["doh_answers_after"], True),
    "spoof: forged answers accepted": (s["forged_accepted"], 0),
    "spoof: forged answers in the cache": (s["forged_in_cache"], 0),
    "spoof: server processes exited": (s["crashed"], 0),
    "hostile: poisoned or wrong secure answers": (h["poisoned_or_wrong"], 0),
    "hostile: server processes exited": (h["crashed"], 0),
    "fairness: the candidate exited": (fair["crashed"], False),
}
failed = [f"{what}: {got} (expected {want})" for what, (got, want) in checks.items()
          if got != want]
if amp["max"]["candidate"] > amp["candidate_cap"]:
    failed.append(f"amplification: {amp['max']['candidate']} upstream queries for one "
                  f"question, over the cap of {amp['candidate_cap']}")
for line in failed:
    print(f"campaign: FAILED {line}")
if failed:
    sys.exit(1)
print(f"campaign: ok ({h['answers']} hostile-phase answers, {s['forged_sent']} forged "
      f"answers, amplification max {amp['max']['candidate']} vs Unbound "
      f"{amp['max']['unbound']}; fairness, front reader: quiet client lost "
      f"{fair['flood']['lost']}/{fair['flood']['sent']} under the flood, p99 "
      f"{fair['alone']['p99_ms']} ms alone, {fair['flood']['p99_ms']} ms flooded)")
PY
