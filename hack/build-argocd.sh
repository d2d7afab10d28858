#!/usr/bin/env bash
# Build Argo CD (application-controller, repo-server, server and CLI: one multicall binary)
# from the Go module proxy and cache it outside the repo, like the control plane.
#
#   hack/build-argocd.sh            build (or reuse) Argo CD, print its bin directory
#
# github.com/argoproj/argo-cd/v3's go.mod replaces its gitops-engine with ./gitops-engine, a
# nested module the module zip does not carry: a wrapper module requires argo-cd, copies
# every other replace line from the downloaded go.mod, and points gitops-engine at a
# published pseudo-version (ARGOCD_GITOPS_ENGINE in versions.env). The bin directory holds
# `argocd` plus one symlink per component name (the binary picks its role from argv[0]), the
# repo-server's git-verify-wrapper.sh, which it expects on PATH, and Argo CD's install.yaml.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

command -v go >/dev/null || { echo "error: Go is required to build Argo CD" >&2; exit 1; }

cache=${PORTICO_CACHE:-$HOME/.cache/portico}
bindir="$cache/bin/argocd-$ARGOCD_VERSION"
roles=(argocd-application-controller argocd-repo-server argocd-server argocd-git-ask-pass)
ready() {
  [ -x "$bindir/argocd" ] && [ -x "$bindir/git-verify-wrapper.sh" ] && [ -f "$bindir/install.yaml" ] || return 1
  for r in "${roles[@]}"; do [ -L "$bindir/$r" ] || return 1; done
}
if ready; then echo "$bindir"; exit 0; fi

log() { echo "[build-argocd] $*" >&2; }
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
mkdir -p "$bindir" "$cache/src"
adir="$cache/src/argocd-$ARGOCD_VERSION"
mkdir -p "$adir"
mod=github.com/argoproj/argo-cd/v3
log "downloading $mod@$ARGOCD_VERSION"
info=$(cd "$adir" && go mod download -json "$mod@$ARGOCD_VERSION")
upstream_mod=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' <<<"$info")
srcdir=$(sed -n 's/.*"Dir": "\(.*\)".*/\1/p' <<<"$info")
goversion=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$upstream_mod")
{
  echo "module portico.dev/hack/argocd"
  echo
  echo "go $goversion"
  echo
  echo "require $mod $ARGOCD_VERSION"
  echo
  echo "replace ("
  # Every `a => b vX` line of the upstream replace blocks; local paths are handled below.
  awk '/^replace \(/{inside=1; next} inside && /^\)/{inside=0} inside' "$upstream_mod" \
    | grep ' => ' | grep -v ' => \./' || true
  echo "	github.com/argoproj/argo-cd/gitops-engine => github.com/argoproj/argo-cd/gitops-engine $ARGOCD_GITOPS_ENGINE"
  echo ")"
} > "$adir/go.mod"
log "wrapper go.mod: $(grep -c ' => ' "$adir/go.mod") replace lines"
(cd "$adir" && go get "$mod/cmd@$ARGOCD_VERSION" >/dev/null 2>&1 || true)
pkg=$mod/common
commit=$(sed -n 's/.*"Hash": *"\([0-9a-f]*\)".*/\1/p' "$(dirname "$upstream_mod")/$ARGOCD_VERSION.info" 2>/dev/null || true)
ldflags="-s -w -X $pkg.version=${ARGOCD_VERSION#v} -X $pkg.buildDate=1970-01-01T00:00:00Z -X $pkg.gitTreeState=clean -X $pkg.gitTag=$ARGOCD_VERSION"
[ -n "$commit" ] && ldflags="$ldflags -X $pkg.gitCommit=$commit"
log "building argocd $ARGOCD_VERSION (a cold build takes about 4 minutes on 2 cores)"
(cd "$adir" && go build -trimpath -ldflags "$ldflags" -o "$bindir/argocd" "$mod/cmd")
for r in "${roles[@]}"; do ln -sf argocd "$bindir/$r"; done
install -m 0755 "$srcdir/hack/git-verify-wrapper.sh" "$bindir/git-verify-wrapper.sh"
# What an admin installs (CRDs, ConfigMaps, ...): the devcluster applies its non-workload part.
install -m 0644 "$srcdir/manifests/install.yaml" "$bindir/install.yaml"
echo "$bindir"
