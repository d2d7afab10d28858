#!/usr/bin/env bash
# Tools the tests and the demo run for real, from Debian's packages: lua5.4 (Argo CD health
# checks, unit-tested standalone), prometheus (the alert signal and Portico's own metrics) and
# redis-server (Argo CD's cache; Argo CD itself is built by hack/build-argocd.sh).
# With arguments, only the tools named: `make lint` runs `hack/ensure-test-tools.sh shellcheck`
# (actionlint runs shellcheck on every `run:` script of the workflows).
# Installs what is missing when we may (root with apt-get); otherwise says how.
# Each tool is a command of the Debian package of the same name.
set -u
tools=("$@")
[ ${#tools[@]} -eq 0 ] && tools=(lua5.4 prometheus redis-server)
missing=()
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (apt-get)" >&2
  (apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
   (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null)) && exit 0
fi
echo "missing for the tests: ${missing[*]} — apt-get install ${missing[*]}" >&2
exit 1
