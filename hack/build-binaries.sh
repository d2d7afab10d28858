#!/usr/bin/env bash
# Build the control-plane binaries from the Go module proxy and cache them outside the repo.
#
#   hack/build-binaries.sh            build (or reuse) every binary, print the bin directory
#
# kube-apiserver & co. come from the k8s.io/kubernetes module, whose go.mod points every
# staging module (k8s.io/api, apimachinery, ...) at ./staging: a small wrapper module
# requires k8s.io/kubernetes and replaces each of those with its published v0.N.x version.
# The replace list is generated from the downloaded go.mod, never typed by hand.
# etcd comes from go.etcd.io/etcd/server/v3 through a three-line wrapper main.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

command -v go >/dev/null || { echo "error: Go is required to build the control plane (install Go >= 1.26 from go.dev or 'apt-get install golang')" >&2; exit 1; }

cache=${PORTICO_CACHE:-$HOME/.cache/portico}
bindir="$cache/bin/kube-$KUBE_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
want=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)
missing=0
for b in "${want[@]}"; do [ -x "$bindir/$b" ] || missing=1; done
if [ "$missing" = 0 ]; then echo "$bindir"; exit 0; fi

mkdir -p "$bindir" "$cache/src"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
log() { echo "[build-binaries] $*" >&2; }

# --- Kubernetes -------------------------------------------------------------
minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}; patch=${KUBE_VERSION##*.}
staging="v0.$minor.$patch"
kdir="$cache/src/kube-$KUBE_VERSION"
if [ ! -x "$bindir/kube-apiserver" ] || [ ! -x "$bindir/kubectl" ] || [ ! -x "$bindir/kube-scheduler" ] || [ ! -x "$bindir/kube-controller-manager" ]; then
  mkdir -p "$kdir"
  log "downloading k8s.io/kubernetes@$KUBE_VERSION go.mod"
  upstream_mod=$(cd "$kdir" && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  goversion=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$upstream_mod")
  {
    echo "module portico.dev/hack/kube"
    echo
    echo "go $goversion"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$staging"'#p' "$upstream_mod"
    echo ")"
  } > "$kdir/go.mod"
  log "wrapper go.mod replaces $(grep -c ' => ' "$kdir/go.mod") staging modules with $staging"
  commit=$(sed -n 's/.*"Hash": *"\([0-9a-f]*\)".*/\1/p' "$(dirname "$upstream_mod")/$KUBE_VERSION.info" 2>/dev/null || true)
  pkg=k8s.io/component-base/version
  ldflags="-s -w -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  [ -n "$commit" ] && ldflags="$ldflags -X $pkg.gitCommit=$commit"
  # Same values for the client-go copy of the version package that kubectl reports.
  ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  (cd "$kdir" && go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" >/dev/null 2>&1 || true)
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (a cold build takes several minutes)"
  (cd "$kdir" && go build -trimpath -ldflags "$ldflags" -o "$bindir/" \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler \
      k8s.io/kubernetes/cmd/kubectl)
fi

# --- etcd -------------------------------------------------------------------
if [ ! -x "$bindir/etcd" ]; then
  edir="$cache/src/etcd-$ETCD_VERSION"
  mkdir -p "$edir"
  cat > "$edir/go.mod" <<GOMOD
module portico.dev/hack/etcd

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GOMOD
  cat > "$edir/main.go" <<'GOMAIN'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GOMAIN
  log "building etcd $ETCD_VERSION"
  (cd "$edir" && go mod tidy >/dev/null 2>&1 && go build -trimpath -ldflags "-s -w" -o "$bindir/etcd" .)
fi

# --- KWOK (simulated kubelets) ------------------------------------------------
if [ ! -x "$bindir/kwok" ]; then
  log "building kwok $KWOK_VERSION"
  GOBIN="$bindir" GOFLAGS= go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
fi

echo "$bindir"
