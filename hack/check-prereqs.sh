#!/usr/bin/env bash
# Say which prerequisite is missing and how to get it, before anything builds.
set -u
missing=0
need() { # command, hint
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "missing: $1 — $2" >&2; missing=1
  fi
}
need git     "apt-get install git"
need openssl "apt-get install openssl (certificates for the local control plane)"
need go      "Go >= 1.26 builds kube-apiserver and etcd: https://go.dev/dl or apt-get install golang-1.26"
PY=${PY:-python3.11}
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "missing: $PY — Python >= 3.11 (apt-get install python3.11 python3.11-venv, or pyenv install 3.11)" >&2
  missing=1
elif ! "$PY" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "too old or no venv module: $PY is $("$PY" --version 2>&1); Python >= 3.11 with venv is needed" >&2
  missing=1
fi
if command -v go >/dev/null 2>&1; then
  have=$(go env GOVERSION | sed 's/^go//')
  if [ "$(printf '%s\n1.26\n' "$have" | sort -V | head -1)" != "1.26" ]; then
    echo "too old: Go $have; Kubernetes $(. "$(dirname "$0")/versions.env"; echo "$KUBE_VERSION") needs Go >= 1.26" >&2
    missing=1
  fi
fi
exit $missing
