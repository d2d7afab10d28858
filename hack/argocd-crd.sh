#!/usr/bin/env bash
# Print the directory holding Argo CD's CRDs (application-crd.yaml, appproject-crd.yaml) for
# the tests: ../shared/argocd/ when present, else manifests/crds in the argo-cd Go module,
# fetched through the module proxy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared="$here/../../shared/argocd"
if [ -f "$shared/application-crd.yaml" ] && [ -f "$shared/appproject-crd.yaml" ]; then
  cd "$shared" && pwd; exit 0
fi
# shellcheck source=versions.env
source "$here/versions.env"
dir=$(cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download -json "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION" \
      | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
echo "$dir/manifests/crds"
