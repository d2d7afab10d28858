#!/usr/bin/env bash
# Print the path of Argo CD's Application CRD for the tests: ../shared/argocd/ when present,
# else the copy in the argo-cd Go module (manifests/crds), fetched through the module proxy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared="$here/../../shared/argocd/application-crd.yaml"
if [ -f "$shared" ]; then echo "$(cd "$(dirname "$shared")" && pwd)/application-crd.yaml"; exit 0; fi
# shellcheck source=versions.env
source "$here/versions.env"
dir=$(cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download -json "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION" \
      | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
echo "$dir/manifests/crds/application-crd.yaml"
