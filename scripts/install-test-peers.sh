#!/usr/bin/env bash
# Installs, with apt-get, the Debian packages the tests need: openssl for the
# development certificates, chromium and firefox-esr for the browser tests,
# and the independent peers of the interop matrix (test/interop). Only what is
# missing is installed, in one apt-get call. Exits non-zero when that fails:
# the tests needing those packages then fail (they never skip).
set -uo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v openssl >/dev/null || missing+=(openssl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
interop_peers=(haproxy nghttp2-proxy nghttp2-client python3-websockets python3-autobahn python3-h2 golang-go
  golang-github-gorilla-websocket-dev golang-github-lucas-clemente-quic-go-dev golang-github-marten-seemann-qpack-dev redis-server)
for pkg in "${interop_peers[@]}"; do
  [ "$(dpkg-query -W -f '${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-test-peers: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { as_root apt-get update -qq && as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
  echo "install-test-peers: apt-get install failed: the tests needing ${missing[*]} will fail"
  exit 1
fi
