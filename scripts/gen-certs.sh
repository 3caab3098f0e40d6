#!/bin/sh
# Development certificates: a local CA and a leaf for localhost, 127.0.0.1 and ::1.
#   sh scripts/gen-certs.sh [--if-missing] [DIR]     (DIR defaults to certs/)
# Writes ca.crt, ca.key, server.crt, server.key. Private keys are git-ignored.
# Trust ca.crt (for example `NODE_EXTRA_CA_CERTS=certs/ca.crt`) to connect without warnings.
set -eu

if_missing=false
if [ "${1:-}" = "--if-missing" ]; then if_missing=true; shift; fi
dir="${1:-$(dirname "$0")/../certs}"

if $if_missing && [ -f "$dir/server.crt" ] && [ -f "$dir/server.key" ]; then
  exit 0
fi
command -v openssl >/dev/null || { echo "gen-certs: openssl is required" >&2; exit 1; }
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# P-256 keys: accepted by every TLS stack we talk to (Node/OpenSSL, BoringSSL in quiche, browsers).
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
  -subj "/CN=trident-ws development CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
  -subj "/CN=localhost" -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
cat > "$work/server.ext" <<EXT
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
EXT
# 397 days: within the 398-day ceiling browsers apply to leaf certificates.
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
  -days 397 -sha256 -extfile "$work/server.ext" -out "$work/server.crt" 2>/dev/null

cp "$work/ca.crt" "$work/ca.key" "$work/server.crt" "$work/server.key" "$dir/"
chmod 600 "$dir/ca.key" "$dir/server.key"
echo "gen-certs: wrote $dir/ca.crt, $dir/server.crt and their keys"
