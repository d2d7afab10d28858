"""Tenant templates rendered in a child process: CPU, memory and ReDoS bombs are stopped at
their limits with an error naming the file, output over the cap is refused, the event loop
keeps ticking meanwhile, cancellation kills the child, the child sees no tokens, and normal
jobs give exactly what the in-process functions give. Also the in-sandbox size caps."""

import asyncio
import os
import time
from typing import Any

import pytest

from portico.clients import sandbox
from portico.clients.sandbox import Renderer, child_env
from portico.domain.dashboards import default_template, render_dashboard
from portico.domain.refs import EntityKey
from portico.domain.scaffold import (
    render_context,
    run_template_tests,
    skeleton_files,
    template_problems,
    values_problem,
    with_defaults,
)
from portico.models.component import ComponentSpec
from portico.models.template import TemplateSpec
from portico.rendering.skeleton import (
    Limits,
    RenderError,
    RenderTimeout,
    RenderTooLarge,
    render_skeleton,
    render_string,
)

SECONDS = 2.0
MIB = 2**20
CPU_BOMB = "{% for i in range(20000) %}{% for j in range(20000) %}{% endfor %}{% endfor %}"
DOUBLING = (
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}{{ ns.s }}"
)
SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z-]+$"},
        "port": {"type": "integer", "default": 8080},
    },
}
TKEY = EntityKey("template", "shop", "service")
COMPONENT = {"owner": "group:shop", "type": "service", "lifecycle": "production"}


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(seconds=SECONDS, memory_bytes=256 * MIB, concurrency=2, max_output=8 * MIB)


def template(content: str = "# {{ values.name }}\n", **spec: Any) -> TemplateSpec:
    return TemplateSpec.model_validate(
        {
            "owner": "group:shop",
            "parameters": SCHEMA,
            "skeleton": {
                "files": [
                    {"path": "README.md", "content": content},
                    {"path": "{{ values.name }}/port", "content": "{{ values.port }}\n"},
                ],
                "configMaps": [{"name": "ci", "path": ".github/workflows"}],
            },
            "tests": [{"name": "smoke", "values": {"name": "svc"}}],
            **spec,
        }
    )


CMS = {"ci": {"test.yaml": "name: {{ component.name }}\n"}}


def check_args(spec: TemplateSpec, max_bytes: int = 5 * MIB) -> dict[str, Any]:
    return {
        "namespace": TKEY.namespace,
        "name": TKEY.name,
        "template": spec.wire(),
        "configMaps": CMS,
        "maxFiles": 500,
        "maxBytes": max_bytes,
    }


def scaffold_args(spec: TemplateSpec, values: dict[str, Any]) -> dict[str, Any]:
    component = ComponentSpec.model_validate(COMPONENT)
    return {
        "component": {"namespace": "shop", "name": "cart"},
        "componentSpec": component.wire(),
        "templateKey": {"namespace": TKEY.namespace, "name": TKEY.name},
        "template": spec.wire(),
        "configMaps": CMS,
        "values": values,
        "maxFiles": 500,
        "maxBytes": 5 * MIB,
        "strings": [
            {"label": "spec.publish.github.repoName", "source": " {{ component.name }}-svc "},
            {
                "label": "github.fallbackGitUrl",
                "source": "https://git.example/{{ owner }}/{{ name }}.git",
                "extra": {"owner": "shop", "name": "$string:spec.publish.github.repoName"},
            },
        ],
    }


async def test_a_cpu_bomb_is_stopped_at_the_limit_while_the_loop_keeps_ticking(
    renderer: Renderer,
) -> None:
    gaps: list[float] = []

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    try:
        with pytest.raises(RenderTimeout) as caught:
            await renderer.run("template_check", check_args(template(CPU_BOMB)))
    finally:
        ticker.cancel()
    took = time.monotonic() - started
    print(f"CPU bomb stopped after {took:.2f}s; longest event-loop gap {max(gaps):.3f}s")
    assert took < renderer.deadline
    assert max(gaps) < 0.5
    assert caught.value.reason == "RenderTimeout"
    assert str(caught.value) == (
        "tests[0] (smoke) skeleton.files[0] (README.md) content: rendering took longer than "
        "2s (limit scaffold.renderSeconds) and was stopped"
    )


async def test_the_wall_clock_deadline_stops_a_child_the_cpu_limit_would_not(
    renderer: Renderer,
) -> None:
    renderer.deadline = 0.05  # as if the child were blocked, not computing
    with pytest.raises(RenderTimeout, match="rendering took longer than 2s"):
        await renderer.run("template_check", check_args(template()))


async def test_a_catastrophic_pattern_in_the_values_schema_times_out(renderer: Renderer) -> None:
    spec = template(parameters={"properties": {"name": {"pattern": "^(a+)+$"}}})
    with pytest.raises(RenderTimeout, match=r"^spec\.scaffold\.values: rendering took longer"):
        await renderer.run("scaffold_render", scaffold_args(spec, {"name": "a" * 40 + "!"}))


@pytest.mark.parametrize(
    ("bomb", "says"),
    [
        ("{{ 'x' * 300000000 }}", "'*' would build a value of size 300000000"),
        (DOUBLING, "needed more than 256 MiB of memory (limit scaffold.renderMemoryMiB)"),
    ],
    ids=["repetition", "doubling"],
)
async def test_a_memory_bomb_is_too_large_and_names_the_file(
    renderer: Renderer, bomb: str, says: str
) -> None:
    with pytest.raises(RenderTooLarge) as caught:
        await renderer.run("template_check", check_args(template(bomb)))
    assert caught.value.where == "tests[0] (smoke) skeleton.files[0] (README.md) content"
    assert says in caught.value.message
    assert caught.value.reason == "RenderTooLarge"


async def test_output_over_the_cap_is_too_large(renderer: Renderer) -> None:
    spec = template("{{ 'x' * 200000 }}")
    with pytest.raises(RenderTooLarge, match="output exceeds 100000 bytes"):
        await renderer.run(
            "scaffold_render", scaffold_args(spec, {"name": "a"}), max_output=100_000
        )


async def test_cancellation_kills_the_child(
    renderer: Renderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[asyncio.subprocess.Process] = []
    spawn = asyncio.create_subprocess_exec

    async def recording(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        started.append(await spawn(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(asyncio, "create_subprocess_exec", recording)
    task = asyncio.create_task(renderer.run("template_check", check_args(template(CPU_BOMB))))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert started[0].returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(started[0].pid, 0)


async def test_the_child_sees_no_secrets(
    renderer: Renderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTICO_TEST_SECRET", "hunter2")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_x")
    env = child_env()
    assert set(env) <= {"PATH", "PYTHONPATH", "LANG", "LC_ALL"} | {
        k for k in env if k.startswith("PYTHON")
    }
    assert "hunter2" not in repr(env)
    started = time.monotonic()
    seen = (await renderer.run("ping", {}))["envKeys"]
    print(f"trivial job (ping) round trip: {time.monotonic() - started:.3f}s")
    assert "PORTICO_TEST_SECRET" not in seen
    assert "GITHUB_TOKEN" not in seen


async def test_template_check_matches_the_in_process_check(renderer: Renderer) -> None:
    spec = template(
        tests=[
            {"name": "ok", "values": {"name": "svc"}, "expect": [{"path": "svc/port"}]},
            {"name": "bad", "values": {"name": "Bad"}},
            {"name": "missing", "values": {"name": "svc"}, "expect": [{"path": "Makefile"}]},
        ]
    )
    started = time.monotonic()
    got = await renderer.run("template_check", check_args(spec))
    print(f"template_check round trip: {time.monotonic() - started:.3f}s")
    want = [
        {"name": r.name, "passed": r.passed, "message": r.message}
        for r in run_template_tests(TKEY, spec, CMS, Limits())
    ]
    assert got == {"problems": [], "tests": want}
    assert [t["passed"] for t in got["tests"]] == [True, False, False]

    invalid = template("{% if %}")
    got = await renderer.run("template_check", check_args(invalid))
    assert got == {"problems": template_problems(invalid, CMS), "tests": []}


async def test_scaffold_render_matches_the_in_process_render(renderer: Renderer) -> None:
    spec = template()
    got = await renderer.run("scaffold_render", scaffold_args(spec, {"name": "svc"}))
    values = with_defaults(SCHEMA, {"name": "svc"})
    component = ComponentSpec.model_validate(COMPONENT)
    context = render_context(EntityKey("component", "shop", "cart"), component, TKEY, values)
    assert got["files"] == render_skeleton(skeleton_files(spec, CMS), context)
    assert got["values"] == values == {"name": "svc", "port": 8080}
    assert got["strings"] == {
        "spec.publish.github.repoName": " cart-svc ",
        "github.fallbackGitUrl": render_string(
            "https://git.example/{{ owner }}/{{ name }}.git",
            {**context, "owner": "shop", "name": "cart-svc"},
            "fallback",
        ),
    }

    refused = await renderer.run("scaffold_render", scaffold_args(spec, {"name": "Bad"}))
    assert refused == {
        "refused": {
            "reason": "InvalidValues",
            "message": values_problem(SCHEMA, {"name": "Bad", "port": 8080}),
        }
    }
    broken = await renderer.run(
        "scaffold_render", scaffold_args(template("{{ nope }}"), {"name": "a"})
    )
    assert broken["refused"]["reason"] == "RenderFailed"
    assert broken["refused"]["message"] == (
        "template:shop/service: skeleton.files[0] (README.md) content: 'nope' is undefined"
    )


async def test_dashboard_render_matches_and_reports_render_errors(renderer: Renderer) -> None:
    key = EntityKey("component", "shop", "cart")
    args = {"template": default_template(), "key": key._asdict(), "alertLabels": {"app": "cart"}}
    got = await renderer.run("dashboard_render", args)
    assert got == {"model": render_dashboard(default_template(), key, {"app": "cart"})}
    with pytest.raises(RenderError, match=r"^dashboard: does not render to JSON") as caught:
        await renderer.run("dashboard_render", {**args, "template": "nope"})
    assert caught.value.reason == "RenderFailed"


async def test_the_semaphore_bounds_concurrent_children(monkeypatch: pytest.MonkeyPatch) -> None:
    running = peak = 0
    real = sandbox.Renderer._watch

    async def counting(self: Renderer, request: bytes, cap: int) -> Any:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            return await real(self, request, cap)
        finally:
            running -= 1

    monkeypatch.setattr(sandbox.Renderer, "_watch", counting)
    one = Renderer(seconds=SECONDS, memory_bytes=256 * MIB, concurrency=1, max_output=MIB)
    await asyncio.gather(*(one.run("ping", {}) for _ in range(3)))
    assert peak == 1


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x' * 300000000 }}",
        "{{ [1] * 100000000 }}",
        "{{ 'ab' + 'c' * 5242880 }}",
        "{{ 7 ** 100000000 }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ '%*d' % (5, 1) }}",
        "{{ '%999999999s' | format(1) }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ 'x'.ljust(999999999) }}",
        "{{ 'x' | center(999999999) }}",
    ],
)
def test_the_sandbox_refuses_amplifiers_before_allocating(source: str) -> None:
    with pytest.raises(RenderTooLarge, match=r"^f: .*(over the limit of 5242880|not allowed)"):
        render_string(source, {}, "f")


def test_the_sandbox_still_allows_ordinary_arithmetic_and_formatting() -> None:
    source = (
        "{{ 'ab' * 3 }} {{ 2 ** 10 }} {{ '%05d' % 42 }} {{ '{:>4}'.format(7) }} {{ 'x'.ljust(3) }}|"
    )
    assert render_string(source, {}, "f") == "ababab 1024 00042    7 x  |"
