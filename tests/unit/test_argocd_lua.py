"""The Lua health check shipped for Argo CD, run by a real Lua 5.4 against Component objects
in each state, and the argocd-cm patch carrying exactly that script."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "argocd" / "health.lua"


def lua_value(value: Any) -> str:
    """A Python value as a Lua constructor (JSON's subset)."""
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"[{json.dumps(k)}] = {lua_value(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, list):
        return "{" + ", ".join(lua_value(v) for v in value) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nil"
    return json.dumps(value)


def argocd_health(obj: dict[str, Any], tmp_path: Path) -> tuple[str, str]:
    program = tmp_path / "check.lua"
    program.write_text(
        f"obj = {lua_value(obj)}\n"
        f"local hs = (function()\n{SCRIPT.read_text()}\nend)()\n"
        'io.write(hs.status, "\\n", hs.message or "")\n'
    )
    out = subprocess.run(["lua5.4", str(program)], capture_output=True, text=True, check=True)
    status, _, message = out.stdout.partition("\n")
    return status, message


def component(generation: int = 2, **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "portico.dev/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "checkout", "generation": generation},
        "status": status,
    }


READY = {"type": "Ready", "status": "True", "reason": "Reconciled"}
NOT_READY = {
    "type": "Ready",
    "status": "False",
    "reason": "ReferenceNotFound",
    "message": "reference not found: system:shop/payments",
}


@pytest.mark.parametrize(
    ("obj", "status", "says"),
    [
        (component(), "Progressing", "Waiting for Portico"),
        (component(generation=3, observedGeneration=2), "Progressing", "generation 3"),
        (
            component(observedGeneration=2, conditions=[NOT_READY]),
            "Degraded",
            "ReferenceNotFound: reference not found: system:shop/payments",
        ),
        (
            component(
                observedGeneration=2,
                conditions=[READY],
                health={"status": "Healthy", "message": "kubernetes: 3/3"},
            ),
            "Healthy",
            "3/3",
        ),
        (
            component(
                observedGeneration=2,
                conditions=[READY],
                health={"status": "Degraded", "message": "argocd: sync failed"},
            ),
            "Degraded",
            "sync failed",
        ),
        (
            component(
                observedGeneration=2,
                conditions=[READY],
                health={"status": "Missing", "message": "no workload"},
            ),
            "Missing",
            "no workload",
        ),
        (
            component(
                observedGeneration=2,
                conditions=[READY],
                health={"status": "Progressing", "message": "1/3"},
            ),
            "Progressing",
            "1/3",
        ),
        (
            component(observedGeneration=2, conditions=[READY], health={"status": "Weird"}),
            "Unknown",
            "",
        ),
        (component(observedGeneration=2, conditions=[READY]), "Healthy", "no health source"),
    ],
)
def test_lua_health_check(obj: dict[str, Any], status: str, says: str, tmp_path: Path) -> None:
    got_status, message = argocd_health(obj, tmp_path)
    assert got_status == status
    assert says in message


def test_the_argocd_cm_patch_carries_the_script_for_every_kind() -> None:
    patch = (ROOT / "deploy" / "argocd" / "argocd-cm-patch.yaml").read_text()
    import yaml

    data = yaml.safe_load(patch)["data"]
    assert sorted(data) == [
        f"resource.customizations.health.portico.dev_{k}"
        for k in ("API", "Component", "System", "Template")
    ]
    for script in data.values():
        assert script.strip() == SCRIPT.read_text().strip(), "run `make manifests`"
