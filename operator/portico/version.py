"""Portico's version, read from the installed distribution's metadata.

pyproject.toml's `version` is the one place it is written: `portico --version` prints it,
`make manifests` tags deploy/'s image `v<version>` with it, and a release is the tag
`v<version>` (hack/release.py). tests/unit/test_version_agreement.py checks that they agree.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _installed_version

DISTRIBUTION = "portico"
UNKNOWN = "0+unknown"


def version() -> str:
    """The installed version, or UNKNOWN for a source tree on sys.path that was never
    installed (it has no metadata to read)."""
    try:
        return _installed_version(DISTRIBUTION)
    except PackageNotFoundError:
        return UNKNOWN
