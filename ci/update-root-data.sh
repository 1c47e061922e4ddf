#!/usr/bin/env bash
# Refreshes the candidate's bundled root data (resolver/data/) from Debian's dns-root-data,
# on purpose: the files are committed and shipped as package data, never fetched at run time.
#
#   root.hints        the IANA root hints (named.root), from the binary package (/usr/share/dns)
#   root.ds, root.key the root KSK as DS and DNSKEY records, from the binary package
#   root-anchors.xml  IANA's RFC 7958 trust-anchor file, from the source package (the binary
#                     package only ships what Debian derived from it), checked against its
#                     S/MIME signature (root-anchors.p7s) with ICANN's CA bundle as Debian's
#                     build does, and root.hints against Verisign's OpenPGP signature
#
# The source package is fetched with apt-get from a private deb-src list (the system's apt
# configuration is left alone). Writes resolver/data/README.md with the version and date.
# Usage: ci/update-root-data.sh   (as root if dns-root-data must be installed; needs openssl,
# gpgv and dpkg-source, all in a Debian base system)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=resolver/data

if [ ! -r /usr/share/dns/root.hints ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends dns-root-data
fi
version=$(dpkg-query -W -f '${Version}' dns-root-data)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/parts" "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
. /etc/os-release
cat > "$work/parts/src.sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: ${VERSION_CODENAME}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
apt_opts=(-o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$work/parts"
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
apt-get "${apt_opts[@]}" update -q
# apt checks the source files against the signed index; the exact binary version's source
(cd "$work/src" && apt-get "${apt_opts[@]}" source --download-only "dns-root-data=$version")
dpkg-source --no-check -x "$work"/src/dns-root-data_*.dsc "$work/tree" >/dev/null
tree="$work/tree"

# The signatures, as Debian's build checks them. ICANN's signing certificate has expired since
# the file was signed, so the chain is checked without the clock (the file's own validFrom and
# validUntil dates are what the resolver honours).
openssl smime -verify -no_check_time -CAfile "$tree/icannbundle.pem" -inform DER \
  -in "$tree/root-anchors.p7s" -content "$tree/root-anchors.xml" -out /dev/null
gpgv --keyring "$tree/registry-admin.key" "$tree/root.hints.sig" "$tree/root.hints"
cmp "$tree/root.hints" /usr/share/dns/root.hints

install -m 644 /usr/share/dns/root.hints /usr/share/dns/root.ds /usr/share/dns/root.key \
  "$tree/root-anchors.xml" "$dest/"

# The XML and the DS file must say the same thing today.
PYTHONWARNINGS=ignore .venv/bin/python - "$dest" <<'PY'
import sys
from pathlib import Path

import dns.name

from resolver.trust import TrustAnchors

d = Path(sys.argv[1])
xml = TrustAnchors.from_file(d / "root-anchors.xml")
ds = TrustAnchors.from_file(d / "root.ds")
if set(xml.ds_for(dns.name.root)) != set(ds.ds_for(dns.name.root)):
    sys.exit("root-anchors.xml and root.ds disagree on the root DS set")
print("root anchors:", sorted(xml.key_tags(dns.name.root)))
PY

cat > "$dest/README.md" <<README
# Bundled root data

The candidate resolver's defaults when no \`--root-hints\` / \`--trust-anchor\` is given
(loaded with importlib.resources from the \`resolver\` package). Updated on purpose with
\`ci/update-root-data.sh\`, never at run time.

| file | what | from |
| --- | --- | --- |
| root.hints | IANA root hints (named.root): 13 servers, IPv4 and IPv6 | dns-root-data $version, /usr/share/dns/root.hints (OpenPGP signature checked) |
| root-anchors.xml | IANA root trust anchors, RFC 7958 XML (the default \`--trust-anchor\`) | dns-root-data $version source package (S/MIME signature checked with ICANN's CA bundle) |
| root.ds | the same anchors as DS records | dns-root-data $version, /usr/share/dns/root.ds |
| root.key | the root KSKs as DNSKEY records | dns-root-data $version, /usr/share/dns/root.key |

Source: Debian package dns-root-data $version (the data is IANA's). Copied on $(date -u +%Y-%m-%d).
README
echo "update-root-data: $dest updated from dns-root-data $version"
