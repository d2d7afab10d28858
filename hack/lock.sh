#!/usr/bin/env bash
# `make lock`: write the lock files, exact versions with every file's sha256, for CPython 3.11
# on x86-64 Linux (the hashes cover each version's wheels for every platform):
#   requirements-dev.lock    what `make` installs: the runtime dependencies, the `test` extra,
#                            hack/devcluster's dependencies, and pip and setuptools (the build
#                            backend the editable installs use, with --no-build-isolation)
#   requirements.lock        what the image runs with: the runtime dependencies only
#   requirements-build.lock  what the image builds its wheel with: setuptools
# The two smaller locks take their versions from requirements-dev.lock, so the image runs what
# the tests ran. A version already in a lock is kept unless the pyproject.toml files no longer
# allow it: run this after changing a dependency there. To move to newer versions:
#   UPGRADE=1 make lock                 every package
#   UPGRADE_PACKAGE=httpx make lock     one package (a space-separated list works too)
# The tool is uv (`uv pip compile`), pinned with hashes in hack/lock-tool.txt and installed in
# a venv of its own under ~/.cache/portico; it never touches .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3.11}
tools=${PORTICO_CACHE:-$HOME/.cache/portico}/lock-tools
if [ ! -x "$tools/bin/uv" ] || ! cmp -s hack/lock-tool.txt "$tools/lock-tool.txt"; then
  rm -rf "$tools"
  "$PY" -m venv "$tools"
  "$tools/bin/pip" install -q --require-hashes -r hack/lock-tool.txt
  cp hack/lock-tool.txt "$tools/lock-tool.txt"
fi
uv=$tools/bin/uv

# The build backend, as both pyproject.toml files ask for it (one source of truth). It goes in
# on standard input, so the locks name no temporary file.
build_requires() {
  "$PY" -c 'import tomllib
for path in ("pyproject.toml", "hack/devcluster/pyproject.toml"):
    with open(path, "rb") as f:
        print(*tomllib.load(f)["build-system"]["requires"], sep="\n")'
}

upgrade=()
if [ -n "${UPGRADE:-}" ]; then upgrade+=(--upgrade); fi
for p in ${UPGRADE_PACKAGE:-}; do upgrade+=(--upgrade-package "$p"); done

compile() { # output, inputs and options...
  local out=$1
  shift
  "$uv" pip compile --quiet --generate-hashes \
    --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
    --no-emit-index-url --custom-compile-command "make lock" \
    "${upgrade[@]}" -o "$out" "$@"
}
{ build_requires; echo pip; } | compile requirements-dev.lock \
  pyproject.toml --extra test hack/devcluster/pyproject.toml -
compile requirements.lock pyproject.toml -c requirements-dev.lock
build_requires | compile requirements-build.lock - -c requirements-dev.lock
