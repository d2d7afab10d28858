#!/usr/bin/env bash
# Install Backstage's own entity validators (hack/backstage-validate: @backstage/catalog-model and
# the scaffolder's Template validator, exactly as its package-lock.json pins them) into a cache
# directory outside the repo, keyed by the lock file and the script, and print that directory.
#
#   hack/ensure-backstage-validator.sh     install (or reuse), print the directory
#
# The tests run `node <dir>/validate.mjs` (tests/support/backstage.py). A change to the lock or
# to validate.mjs gives a new directory; old ones can be deleted by hand.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src="$here/backstage-validate"

command -v node >/dev/null || { echo "error: Node.js >= 20 is required for Backstage's validators (install it from nodejs.org or 'apt-get install nodejs npm')" >&2; exit 1; }
command -v npm >/dev/null || { echo "error: npm is required for Backstage's validators ('apt-get install npm')" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "error: Node.js >= 20 is required for Backstage's validators, found $(node --version)" >&2; exit 1; }

key=$(cat "$src/package.json" "$src/package-lock.json" "$src/validate.mjs" | sha256sum | cut -c1-16)
cache=${PORTICO_CACHE:-$HOME/.cache/portico}
dir="$cache/backstage-validate-$key"
if [ -f "$dir/.installed" ]; then echo "$dir"; exit 0; fi

log() { echo "[ensure-backstage-validator] $*" >&2; }
log "installing @backstage/catalog-model and @backstage/plugin-scaffolder-common into $dir"
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.backstage-validate.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$src/package.json" "$src/package-lock.json" "$src/validate.mjs" "$tmp/"
# --ignore-scripts: nothing here needs an install script; --engine-strict stays off because a
# dependency of the scaffolder package asks for Node 22 only for code the validator never loads.
(cd "$tmp" && npm ci --omit=dev --no-audit --no-fund --ignore-scripts --loglevel=error >&2) ||
  { echo "error: npm ci failed in $tmp (is the npm registry reachable?)" >&2; exit 1; }
echo '[]' | node "$tmp/validate.mjs" >/dev/null || { echo "error: $tmp/validate.mjs does not run" >&2; exit 1; }
touch "$tmp/.installed"
# Built aside and renamed into place, so a directory that exists is complete; if a parallel run
# got there first, keep its copy.
mv -T "$tmp" "$dir" 2>/dev/null || [ -f "$dir/.installed" ] || { echo "error: cannot create $dir" >&2; exit 1; }
echo "$dir"
