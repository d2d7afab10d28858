#!/usr/bin/env python3
"""What a release is made of, read from the one place each is written.

The version is pyproject.toml's `version`; the image repository is IMAGE_REPOSITORY in
hack/versions.env. `make manifests`, `make image`, `make lint` and the release workflow
(.github/workflows/release.yaml) all ask this script, so they cannot disagree, and
tests/unit/test_version_agreement.py checks what they wrote. Only the standard library:
the release workflow runs it with a bare Python 3.11.

  hack/release.py version                 0.1.0
  hack/release.py image                   <IMAGE_REPOSITORY>:v0.1.0
  hack/release.py repository              IMAGE_REPOSITORY from hack/versions.env
  hack/release.py set-image [--digest D]  write deploy/manager/kustomization.yaml's image
                                          (`make manifests`; --digest only in a release)
  hack/release.py check-tag v0.1.0        exit 1 unless the tag is v<version> and
                                          CHANGELOG.md has a dated heading for it
  hack/release.py notes                   CHANGELOG.md's section for this version
  hack/release.py base-images             the Containerfile's FROM references
  hack/release.py check-index P...        a manifest on stdin is an index with platforms P
  hack/release.py check-pins              every action is pinned to a commit, every base
                                          image to a digest (`make lint`)
"""

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KUSTOMIZATION = ROOT / "deploy" / "manager" / "kustomization.yaml"
CHANGELOG = ROOT / "CHANGELOG.md"
CONTAINERFILE = ROOT / "Containerfile"
WORKFLOWS = ROOT / ".github" / "workflows"
# The name the manager Deployment gives its image; kustomize replaces it (`images:`).
IMAGE_NAME = "portico"

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
RELEASE_HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>.+))?$", re.MULTILINE)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ReleaseError(Exception):
    """Something a release needs is missing or disagrees; the message says what to fix."""


def version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as f:
        found: str = tomllib.load(f)["project"]["version"]
    return found


def repository() -> str:
    for line in (ROOT / "hack" / "versions.env").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "IMAGE_REPOSITORY":
            return value.strip()
    raise ReleaseError("hack/versions.env has no IMAGE_REPOSITORY")


def image() -> str:
    return f"{repository()}:v{version()}"


def set_image(digest: str | None) -> str:
    """Write the image into the manager kustomization's `images:` entry and return the text.

    Only the lines of that one entry change, so the file's comments and order stay. A digest
    (a release's) pins the image as `repository:tag@digest`; the committed file never has one.
    """
    if digest is not None and not DIGEST.fullmatch(digest):
        raise ReleaseError(f"--digest {digest!r} is not sha256:<64 hex digits>")
    lines = KUSTOMIZATION.read_text().splitlines()
    try:
        start = lines.index("images:")
        entry = lines.index(f"  - name: {IMAGE_NAME}", start)
    except ValueError:
        raise ReleaseError(
            f"{KUSTOMIZATION.relative_to(ROOT)} has no `images:` entry `- name: {IMAGE_NAME}`"
        ) from None
    end = entry + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    fields = [f"    newName: {repository()}", f"    newTag: v{version()}"]
    if digest is not None:
        fields.append(f"    digest: {digest}")
    lines[entry + 1 : end] = fields
    text = "\n".join(lines) + "\n"
    KUSTOMIZATION.write_text(text)
    return text


def release_section(wanted: str) -> tuple[str | None, str]:
    """CHANGELOG.md's heading date and body for one version (Keep a Changelog's form)."""
    text = CHANGELOG.read_text()
    headings = list(RELEASE_HEADING.finditer(text))
    for i, heading in enumerate(headings):
        if heading["version"] == wanted:
            end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
            body = text[heading.end() : end]
            body = re.split(r"^\[[^\]]+\]: ", body, maxsplit=1, flags=re.MULTILINE)[0]
            return heading["date"], body.strip() + "\n"
    raise ReleaseError(f"CHANGELOG.md has no `## [{wanted}] - YYYY-MM-DD` heading")


def check_tag(tag: str) -> None:
    expected = f"v{version()}"
    if tag != expected:
        raise ReleaseError(
            f"tag {tag} is not v<version> from pyproject.toml ({expected}): set the version "
            "there, run `make manifests`, commit, and tag that commit (RELEASING.md)"
        )
    date, _ = release_section(version())
    if date is None or not DATE.fullmatch(date):
        raise ReleaseError(
            f"CHANGELOG.md's heading for {version()} has no release date: "
            f"`## [{version()}] - YYYY-MM-DD` (RELEASING.md)"
        )


def base_images() -> list[str]:
    refs = []
    for line in CONTAINERFILE.read_text().splitlines():
        words = line.split()
        if words and words[0].upper() == "FROM":
            ref = next(w for w in words[1:] if not w.startswith("--"))
            refs.append(ref)
    return refs


def check_index(manifest: dict[str, object], platforms: list[str]) -> None:
    """A base image's digest must name an index (every platform we build), not one platform's
    manifest: pinned to one, a multi-arch build would run amd64 code in the arm64 image."""
    entries = manifest.get("manifests")
    if not isinstance(entries, list):
        raise ReleaseError(
            f"not an image index (mediaType {manifest.get('mediaType')}): pin the base image "
            "to the digest of its multi-platform index (docker buildx imagetools inspect)"
        )
    have = set()
    for entry in entries:
        platform = entry.get("platform") or {}
        have.add(f"{platform.get('os')}/{platform.get('architecture')}")
    missing = [p for p in platforms if p not in have]
    if missing:
        raise ReleaseError(f"the index lacks {', '.join(missing)} (it has {sorted(have)})")


USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
PINNED_ACTION = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")
VERSION_COMMENT = re.compile(r"\s+#\s*v\d+(\.\d+)*\s*$")


def check_pins() -> list[str]:
    """Every problem with the pins: an action not at a full commit SHA with its tag beside it,
    a base image not at a digest. A placeholder left for a SHA or digest fails here."""
    problems = []
    for path in sorted(WORKFLOWS.glob("*.y*ml")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = USES.match(line)
            if not match or match["ref"].startswith("./"):
                continue  # a reusable workflow of this repository is pinned by the checkout
            where = f"{path.relative_to(ROOT)}:{number}"
            if not PINNED_ACTION.fullmatch(match["ref"]):
                problems.append(f"{where}: {match['ref']} is not pinned to a 40-hex commit")
            elif not VERSION_COMMENT.fullmatch(match["rest"]):
                problems.append(f"{where}: say which tag the commit is (`# vX.Y.Z`)")
    for ref in base_images():
        name, _, digest = ref.partition("@")
        if not DIGEST.fullmatch(digest) and name not in {"build", "scratch"}:
            problems.append(f"Containerfile: FROM {ref} is not pinned by @sha256 digest")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hack/release.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("version", "image", "repository", "notes", "base-images", "check-pins"):
        sub.add_parser(name)
    set_cmd = sub.add_parser("set-image")
    set_cmd.add_argument("--digest", help="pin the image by this digest (a release)")
    tag_cmd = sub.add_parser("check-tag")
    tag_cmd.add_argument("tag")
    index_cmd = sub.add_parser("check-index")
    index_cmd.add_argument("platforms", nargs="+", metavar="OS/ARCH")
    args = parser.parse_args(argv)
    try:
        if args.command == "version":
            print(version())
        elif args.command == "image":
            print(image())
        elif args.command == "repository":
            print(repository())
        elif args.command == "set-image":
            set_image(args.digest)
            print(KUSTOMIZATION.relative_to(ROOT))
        elif args.command == "check-tag":
            check_tag(args.tag)
        elif args.command == "notes":
            sys.stdout.write(release_section(version())[1])
        elif args.command == "base-images":
            print(*base_images(), sep="\n")
        elif args.command == "check-index":
            check_index(json.load(sys.stdin), args.platforms)
        elif args.command == "check-pins":
            problems = check_pins()
            for problem in problems:
                print(problem, file=sys.stderr)
            return 1 if problems else 0
    except ReleaseError as e:
        print(f"hack/release.py {args.command}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
