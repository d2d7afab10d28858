#!/usr/bin/env bash
# Build Portico's image from Containerfile with whatever builder this machine has, tagged
# <IMAGE_REPOSITORY>:v<version> (hack/versions.env, pyproject.toml: hack/release.py image).
#
#   hack/image.sh build          build with docker, podman or buildah (the first that works;
#                                CONTAINER_BUILDER=podman picks one), then check the image
#   hack/image.sh check IMAGE    run the image's checks against IMAGE (the release runs them
#                                on what it is about to push)
#
# A docker CLI whose daemon does not answer is no builder: each candidate must pass its own
# `info`. PLATFORMS=linux/amd64,linux/arm64 builds both (docker buildx or podman/buildah with
# qemu-user-static); the release does that with buildx.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3.11}

# What the image promises, checked by running it: the version agrees, the user is portico,
# nothing can pip-install, git works, and it runs on a read-only root with only /tmp writable.
check() {
  local image=$1 run=$2 want
  want="portico $("$PY" hack/release.py version)"
  local ro=("$run" run --rm --read-only --tmpfs /tmp)
  fail() { echo "image check failed for $image: $*" >&2; exit 1; }
  got=$("${ro[@]}" "$image" --version) || fail "portico --version did not run"
  [ "$got" = "$want" ] || fail "portico --version says '$got', pyproject.toml says '$want'"
  got=$("${ro[@]}" --entrypoint id "$image" -un) || fail "id did not run"
  [ "$got" = portico ] || fail "runs as '$got', not portico"
  "${ro[@]}" --entrypoint git "$image" --version >/dev/null || fail "git does not run"
  "${ro[@]}" --entrypoint python "$image" -c '
import importlib.util, shutil, sys
found = [m for m in ("pip", "setuptools", "wheel", "ensurepip") if importlib.util.find_spec(m)]
found += [t for t in ("pip", "pip3", "gcc", "cc", "make") if shutil.which(t)]
sys.exit(f"the runtime image has {found}" if found else 0)' || fail "build tools in the runtime"
  # The image's own permissions (no --read-only here): only /tmp may be writable.
  got=$("$run" run --rm --entrypoint find "$image" / -xdev \( -path /proc -o -path /sys \) \
        -prune -o -type d -writable -print 2>/dev/null | tr '\n' ' ') || true
  [ "$got" = "/tmp " ] || fail "directories portico can write: $got(only /tmp should be)"
  echo "image checks passed: $image ($want, user portico, no pip, git, read-only root)" >&2
}

# The first builder whose own `info` succeeds; why each candidate is not one, for the message.
pick_builder() {
  local candidates=(docker podman buildah) why=() reason
  [ -n "${CONTAINER_BUILDER:-}" ] && candidates=("$CONTAINER_BUILDER")
  for b in "${candidates[@]}"; do
    if ! command -v "$b" >/dev/null 2>&1; then
      why+=("$b: not installed")
    elif ! "$b" info >/dev/null 2>&1; then
      reason=$({ "$b" info 2>&1 || true; } | grep -m1 -i -E 'error|cannot') || reason="no answer"
      why+=("$b: installed, but \`$b info\` fails: $reason")
    else
      echo "$b"; return 0
    fi
  done
  {
    echo "make image: no container builder works on this machine:"
    printf '  %s\n' "${why[@]}"
    echo "Install one (apt-get install podman, or buildah; or Docker with a running daemon)."
    echo "Releases are built by .github/workflows/release.yaml; no local builder is needed for those."
  } >&2
  return 1
}

case "${1:-}" in
  build)
    builder=$(pick_builder) || exit 1
    image=$("$PY" hack/release.py image)
    platform=()
    [ -n "${PLATFORMS:-}" ] && platform=(--platform "$PLATFORMS")
    echo "building $image with $builder" >&2
    case $builder in
      docker) docker build "${platform[@]}" -f Containerfile -t "$image" . ;;
      podman) podman build "${platform[@]}" -f Containerfile -t "$image" . ;;
      buildah) buildah build "${platform[@]}" -f Containerfile -t "$image" . ;;
    esac
    if [ -n "${PLATFORMS:-}" ] || [ "$builder" = buildah ]; then
      echo "built $image (not run: checks need a single-platform image and docker or podman)" >&2
    else
      check "$image" "$builder"
    fi
    echo "$image"
    ;;
  check)
    [ $# -eq 2 ] || { echo "usage: hack/image.sh check IMAGE" >&2; exit 2; }
    check "$2" "${CONTAINER_RUNTIME:-docker}"
    ;;
  *)
    echo "usage: hack/image.sh build | check IMAGE" >&2
    exit 2
    ;;
esac
