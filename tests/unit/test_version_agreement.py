"""One version and one image name, wherever a release shows them.

pyproject.toml's `version` is written once, and these must say the same: `portico
--version` (and `portico.__version__`), the tag of the image deploy/ installs (in the manager
kustomization and in the rendered install.yaml), and the newest release heading of
CHANGELOG.md. The image's repository is written once, in hack/versions.env, and nothing else
that builds or publishes it spells it out. The release workflow's tag check
(hack/release.py check-tag) accepts exactly v<version>. These read the files themselves,
not through hack/release.py, so a bug there cannot agree with itself.
"""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import portico
from portico.cli import main

ROOT = Path(__file__).resolve().parents[2]


def pyproject_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as f:
        found: str = tomllib.load(f)["project"]["version"]
    return found


def image_repository() -> str:
    env = dict(
        line.split("=", 1)
        for line in (ROOT / "hack" / "versions.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    return env["IMAGE_REPOSITORY"]


def release(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "hack" / "release.py"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_portico_version_is_pyprojects(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"portico {pyproject_version()}\n", (
        "the installed metadata is stale: `make venv` reinstalls the package"
    )
    assert portico.__version__ == pyproject_version()


def test_deploy_installs_the_image_of_this_version() -> None:
    expected = f"{image_repository()}:v{pyproject_version()}"
    kustomization = yaml.safe_load((ROOT / "deploy/manager/kustomization.yaml").read_text())
    assert kustomization["images"] == [
        {
            "name": "portico",
            "newName": image_repository(),
            "newTag": f"v{pyproject_version()}",
        }
    ], "run `make manifests` (a digest is only ever added by the release workflow)"
    deployment = yaml.safe_load((ROOT / "deploy/manager/deployment.yaml").read_text())
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == ["portico"]  # the name kustomize replaces
    install = (ROOT / "deploy/install.yaml").read_text()
    assert re.findall(r"^\s+image: (\S+)$", install, re.MULTILINE) == [expected], (
        "run `make manifests`"
    )


def test_changelogs_newest_release_is_this_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\S+))?$", changelog, re.MULTILINE)
    assert headings[0] == ("Unreleased", ""), "Keep a Changelog: ## [Unreleased] comes first"
    version, date = headings[1]
    assert version == pyproject_version(), (
        f"CHANGELOG.md's newest release is {version}, pyproject.toml says {pyproject_version()}"
    )
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date), f"## [{version}] - YYYY-MM-DD"
    assert f"\n[{version}]: " in changelog, f"a link for [{version}] at the bottom"


def test_a_release_tag_must_be_v_version() -> None:
    version = pyproject_version()
    assert release("check-tag", f"v{version}").returncode == 0
    refused = release("check-tag", f"v{version}.1")
    assert refused.returncode == 1
    assert f"v{version}" in refused.stderr  # names the tag it wants
    assert release("image").stdout == f"{image_repository()}:v{version}\n"


def test_the_image_repository_is_written_once() -> None:
    """Workflows, the Makefile and the build scripts read it (hack/release.py); only
    versions.env and what `make manifests` generates may spell it out."""
    repository = image_repository()
    paths = [
        *(ROOT / ".github" / "workflows").glob("*.yaml"),
        *(ROOT / "hack").glob("*.sh"),
        ROOT / "hack" / "release.py",
        ROOT / "Makefile",
        ROOT / "Containerfile",
    ]
    assert [p.name for p in paths if repository in p.read_text()] == []


def test_the_readme_names_only_this_release() -> None:
    """The README's install section names the release's install.yaml and image; whatever
    version it names must be this one (the section itself is RELEASING.md's business)."""
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"/releases/download/v(\d[^/\s]*)/", readme))
    named |= set(re.findall(re.escape(image_repository()) + r":v(\d[^\s@`\"']*)", readme))
    assert named, "the install section names no release"  # so the check is not vacuous
    assert named <= {pyproject_version()}, f"README names other versions: {named}"
