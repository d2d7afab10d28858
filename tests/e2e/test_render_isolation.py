"""Tenant templates that never finish or never stop growing, on the real API server: the CPU
bomb and the memory bomb of a hostile namespace editor. They render in a child process with
limits, so each ends as a condition that names the file and the limit (RenderTimeout,
RenderTooLarge); meanwhile the operator keeps reconciling everyone else (a workload change
reaches its Component, /healthz answers), and the failing Template is not rendered again
in a loop. The figures are printed; bench/ keeps the tight numbers."""

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from support.config import changed_config
from support.kubectl import Kubectl
from support.manifests import entity
from support.operator import OperatorProcess
from support.poll import eventually

pytestmark = pytest.mark.usefixtures("operator")

CPU_BOMB = "{% for i in range(20000) %}{% for j in range(20000) %}{% endfor %}{% endfor %}"
# Doubling evades any one-operation cap: only the process's memory limit stops it.
MEMORY_BOMB = (
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}{{ ns.s }}"
)
RENDER_SECONDS = 4


@pytest.fixture(scope="module", autouse=True)
def short_renders(kubectl: Kubectl) -> Iterator[None]:
    """Renders stop after 4 CPU seconds here (the default is 10), to keep the suite short."""
    with changed_config(kubectl, scaffold={"renderSeconds": RENDER_SECONDS}):
        yield


def bomb_template(name: str, content: str) -> dict[str, Any]:
    return entity(
        "Template",
        name,
        owner="group:evil",
        skeleton={"files": [{"path": "README.md", "content": content}]},
        publish={"github": {"owner": "acme"}},
        tests=[{"name": "smoke", "values": {}, "expect": [{"path": "README.md"}]}],
    )


def renders_running(operator: OperatorProcess) -> int:
    """Render processes of this operator (its children: another suite running on the same
    machine renders too)."""
    assert operator.proc is not None
    out = subprocess.run(
        ["pgrep", "-P", str(operator.proc.pid), "-f", "portico.renderjobs"],
        capture_output=True,
        text=True,
    )
    return len(out.stdout.split())


def healthz_seconds(operator: OperatorProcess) -> float:
    start = time.monotonic()
    with urllib.request.urlopen(operator.health_url, timeout=10) as answer:
        assert answer.status == 200
    return time.monotonic() - start


def deployment(name: str, app: str) -> str:
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": app}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": app}},
                "template": {
                    "metadata": {"labels": {"app": app}},
                    "spec": {"containers": [{"name": "c", "image": "x"}]},
                },
            },
        }
    )


def test_a_cpu_bomb_stalls_nobody_and_says_which_file(
    kubectl: Kubectl, namespace: str, operator: OperatorProcess
) -> None:
    bystander = entity(
        "Component",
        "bystander",
        type="service",
        lifecycle="production",
        observe={"kubernetes": {"selector": {"matchLabels": {"app": "bystander"}}}},
    )
    kubectl.apply(json.dumps(bystander), namespace)
    eventually(
        lambda: _health_is(kubectl, namespace, "bystander", "Missing"),
        timeout=30,
    )
    kubectl.apply(json.dumps(bomb_template("spin", CPU_BOMB)), namespace)
    eventually(lambda: _assert(renders_running(operator) > 0, "no render process yet"), timeout=20)
    # While the bomb renders: a workload change still reaches its Component, /healthz answers.
    health = [healthz_seconds(operator) for _ in range(5)]
    start = time.monotonic()
    kubectl.apply(deployment("bystander", "bystander"), namespace)
    eventually(lambda: _health_not(kubectl, namespace, "bystander", "Missing"), timeout=20)
    propagated = time.monotonic() - start
    still_rendering = renders_running(operator) > 0
    print(
        f"\nwhile a CPU bomb renders: Deployment -> Component {propagated * 1000:.0f} ms "
        f"(kubectl polls included); /healthz max {max(health) * 1000:.0f} ms"
    )
    assert still_rendering, "the bomb finished before the measurement ended; it proves nothing"
    assert max(health) < 1.0
    assert propagated < 5.0

    def stopped() -> dict[str, Any]:
        c = kubectl.condition("template", "spin", namespace, "Valid")
        assert c["reason"] == "RenderTimeout", c
        return c

    c = eventually(stopped, timeout=60)
    assert c["status"] == "False"
    assert "tests[0] (smoke) skeleton.files[0] (README.md)" in c["message"]
    assert "scaffold.renderSeconds" in c["message"]
    # Not rendered again in a loop: no render process over a window longer than the
    # reconciles its status write and relations cause (which would re-render without a cache).
    deadline = time.monotonic() + 3 * RENDER_SECONDS
    while time.monotonic() < deadline:
        assert renders_running(operator) == 0, "the failed Template is being rendered again"
        time.sleep(0.2)


def test_a_memory_bomb_ends_as_too_large_for_the_template_and_its_components(
    kubectl: Kubectl, namespace: str
) -> None:
    kubectl.apply(json.dumps(bomb_template("grow", MEMORY_BOMB)), namespace)
    component = entity(
        "Component",
        "grown",
        type="service",
        lifecycle="experimental",
        scaffold={"templateRef": {"name": "grow"}},
    )
    kubectl.apply(json.dumps(component), namespace)

    def too_large(kind: str, name: str, type_: str) -> dict[str, Any]:
        c = kubectl.condition(kind, name, namespace, type_)
        assert c["reason"] == "RenderTooLarge", c
        return c

    c = eventually(lambda: too_large("template", "grow", "Valid"), timeout=60)
    assert "README.md" in c["message"]
    c = eventually(lambda: too_large("component", "grown", "Scaffolded"), timeout=60)
    assert c["status"] == "False"
    assert "README.md" in c["message"]
    assert "scaffold.renderMemoryMiB" in c["message"] or "memory" in c["message"]


def _assert(ok: bool, message: str) -> None:
    assert ok, message


def _health_is(kubectl: Kubectl, ns: str, name: str, status: str) -> None:
    obj = kubectl.get("component", name, ns)
    assert obj is not None
    assert (obj.get("status", {}).get("health") or {}).get("status") == status


def _health_not(kubectl: Kubectl, ns: str, name: str, status: str) -> None:
    obj = kubectl.get("component", name, ns)
    assert obj is not None
    got = (obj.get("status", {}).get("health") or {}).get("status")
    assert got not in (None, status), got
