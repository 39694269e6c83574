#!/usr/bin/env bash
# What the test suites need beyond `npm ci`, installed only when missing so a second run is
# quick: Debian packages (a headless keychain for keytar, Chromium, code-server's build
# needs, PostgreSQL's server), keytar rebuilt if it could not build during `npm ci`, and a real VS Code
# (code-server) in .vscode-test/. Run by `npm test` and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS="libsecret-1-dev dbus dbus-x11 gnome-keyring chromium g++ make python3 libkrb5-dev"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
# The PostgreSQL store's tests start a private cluster with PostgreSQL 15's server binaries
# (test/support/postgres.ts); Debian's postgresql only when they are not there already.
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$missing postgresql"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "missing Debian packages:$missing (run: sudo apt-get install$missing)" >&2
    exit 1
  fi
fi
# keytar is optional for users but the keychain test needs it built.
# npm drops an optional dependency whose build failed (e.g. `npm ci` before libsecret-1-dev was
# installed), so a missing folder needs an install, not a rebuild.
if [ ! -d node_modules/keytar ]; then
  echo "installing keytar (its build failed or was skipped during npm ci)"
  npm_config_nodedir=${npm_config_nodedir:-/usr} npm install --no-save --no-audit --no-fund keytar@7.9.0 >/dev/null
elif [ ! -f node_modules/keytar/build/Release/keytar.node ]; then
  echo "building keytar against libsecret"
  npm_config_nodedir=${npm_config_nodedir:-/usr} npm rebuild keytar --foreground-scripts >/dev/null
fi
SKIP_APT=1 bash scripts/setup-code-server.sh
