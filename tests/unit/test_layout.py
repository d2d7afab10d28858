"""Packaging promises: `operator` stays the standard library's, examples parse, config errors
name the variable."""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from portico.config import from_env
from portico.errors import ConfigError
from portico.models import kind_info

ROOT = Path(__file__).resolve().parents[2]


def _operator_module_seen_from(root: Path) -> dict[str, str]:
    """`import operator` in a fresh interpreter placed as the dangerous cases place it: cwd at
    `root` (`-c` puts it first on sys.path) and `root/operator`, the package's source dir, on
    PYTHONPATH (as an editable install or pytest's pythonpath does). This interpreter cannot
    answer that: its `operator` was imported long before any test ran. The child imports
    nothing before `operator` (even `json` would load the standard library's first)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSAFEPATH", "PYTHONPATH")}
    env["PYTHONPATH"] = str(root / "operator")
    code = (
        "import sys; "
        "assert 'operator' not in sys.modules, 'imported at start: the check proves nothing'; "
        "import operator; "
        "print(operator.__file__); print(sys.path[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, check=True, capture_output=True, text=True
    )
    file, path0 = out.stdout.splitlines()
    return {"file": file, "path0": path0}


def _assert_operator_is_the_standard_library(root: Path) -> None:
    seen = _operator_module_seen_from(root)
    assert seen["path0"] in ("", str(root)), seen  # the repository's root is searched first
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    module = Path(seen["file"]).resolve()
    assert module == stdlib / "operator.py", f"import operator found {module}, not {stdlib}"


def test_operator_directory_does_not_shadow_the_standard_library() -> None:
    assert not (ROOT / "operator" / "__init__.py").exists()
    _assert_operator_is_the_standard_library(ROOT)


def test_the_shadowing_check_fails_if_operator_becomes_a_package(tmp_path: Path) -> None:
    """The check above is not vacuous: in a copy of the layout where `operator/` has an
    `__init__.py`, `import operator` finds the copy, and the check says so."""
    shutil.copytree(
        ROOT / "operator", tmp_path / "operator", ignore=shutil.ignore_patterns("__pycache__")
    )
    shadow = tmp_path / "operator" / "__init__.py"
    shadow.write_text("")
    assert _operator_module_seen_from(tmp_path)["file"] == str(shadow)
    with pytest.raises(AssertionError, match="import operator found"):
        _assert_operator_is_the_standard_library(tmp_path)


def test_every_example_parses_into_its_model() -> None:
    count = 0
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["apiVersion"].startswith("portico.dev/"):
                kind_info(doc["kind"]).spec.model_validate(doc["spec"])
                count += 1
    assert count == 7


def test_config_errors_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="PORTICO_WORKERS"):
        from_env({"PORTICO_WORKERS": "lots"})
    assert from_env({"PORTICO_NAMESPACES": "a, b"}).namespaces == ["a", "b"]
