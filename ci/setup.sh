#!/usr/bin/env bash
# Prepares a Debian 12 machine for shadowdns: the Debian packages the lab, the references and
# the benchmarks need (only those missing are installed), then a venv with the project in it.
# Idempotent: a second run does nothing but check.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v unbound >/dev/null || need+=(unbound)
command -v unbound-control >/dev/null || need+=(unbound)
command -v kresd >/dev/null || need+=(knot-resolver)
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v dig >/dev/null || need+=(bind9-dnsutils)
# The harness's tests use real producers: dnsdist (TeeAction to the UDP mirror), fstrm-bin
# (fstrm_capture / fstrm_replay: dnstap files and senders), dnstap-ldns (reads dnstap files),
# tcpdump (pcap captures).
command -v dnsdist >/dev/null || need+=(dnsdist)
command -v fstrm_capture >/dev/null || need+=(fstrm-bin)
command -v dnstap-ldns >/dev/null || need+=(dnstap-ldns)
command -v tcpdump >/dev/null || need+=(tcpdump)
# The bus roles (`shadowdns bus`, docs/BUS.md) meet on Redis Streams; their tests start a
# redis-server of their own on loopback.
command -v redis-server >/dev/null || need+=(redis-server)
"${PYTHON:-python3}" -c "import ensurepip, venv" 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing Debian packages: ${need[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# Debian starts packaged daemons where it can; the lab never needs a system-wide resolver.
for svc in unbound kresd@1 dnsdist redis-server; do
  command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null \
    && echo "setup: note: system service $svc is running (left alone)"
done

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# Python packages come from requirements.lock (every version pinned, made by ci/lock.sh), so a
# fresh machine gets exactly what the tests last passed with; the project itself goes in with
# --no-deps, and `pip check` proves the lock satisfies pyproject.toml.
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements.lock -nt "$stamp" ]; then
  .venv/bin/pip install -q -r requirements.lock
  # (setuptools warns that an editable install can be shadowed by same-named folders: by design here)
  PYTHONWARNINGS="ignore:Editable installation" .venv/bin/pip install -q --no-deps --no-build-isolation -e .
  .venv/bin/pip check
  touch "$stamp"
fi
