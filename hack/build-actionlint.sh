#!/usr/bin/env bash
# Build actionlint (the linter for .github/workflows, `make lint`) from the Go module proxy
# and cache it outside the repo, like the control plane.
#
#   hack/build-actionlint.sh        build (or reuse) actionlint, print its bin directory
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

command -v go >/dev/null || { echo "error: Go is required to build actionlint (install Go >= 1.26 from go.dev or 'apt-get install golang')" >&2; exit 1; }

cache=${PORTICO_CACHE:-$HOME/.cache/portico}
bindir="$cache/bin/actionlint-$ACTIONLINT_VERSION"
if [ -x "$bindir/actionlint" ]; then echo "$bindir"; exit 0; fi

echo "[build-actionlint] building actionlint $ACTIONLINT_VERSION" >&2
mkdir -p "$bindir"
# Built aside and moved into place, so a binary that exists is complete.
tmp=$(mktemp -d "$cache/.actionlint.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" GOFLAGS="" GOTOOLCHAIN=local CGO_ENABLED=0 \
  go install -trimpath -ldflags "-s -w -X github.com/rhysd/actionlint.version=$ACTIONLINT_VERSION" \
  "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
mv "$tmp/actionlint" "$bindir/actionlint"
echo "$bindir"
