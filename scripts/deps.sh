#!/usr/bin/env bash
# Installs the Debian packages mflow needs, only when one is missing.
# apt-get update runs once, and only if something has to be installed.
set -euo pipefail

pkgs=(build-essential cmake ninja-build pkg-config git
      libcjson-dev libwebsockets-dev libcmocka-dev libsqlite3-dev libssl-dev libcrypt-dev openssl
      python3 python3-jinja2 python3-yaml graphviz nats-server valgrind
      tzdata curl    # tzdata: time zone names the services check; curl: make run and the docs;
                     # ninja-build: generator.wild builds ~50 small projects at half the CPU of make
      clang gcovr)   # clang: libFuzzer (make fuzz); gcovr: make coverage

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# Node.js and npm (test peers only): any installation will do. Some machines
# ship a Node.js build that bundles npm and conflicts with Debian's npm package.
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages for the interoperability tests (a third-party NATS client).
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$here/tests/interop/package.json" ] && [ ! -d "$here/tests/interop/node_modules" ]; then
  echo "deps: npm ci in tests/interop"
  (cd "$here/tests/interop" && npm ci --no-audit --no-fund --loglevel=error)
fi
