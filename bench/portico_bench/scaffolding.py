"""Measure 6, scaffolding throughput: Components with a scaffold, against the GitHub
contract fake (tests/fakes/github/); scaffolds per minute and GitHub writes per scaffold
(GitHub allows 80 content-creating requests a minute and 500 an hour). Runs once, after
the rounds, unless `--scaffolds 0`."""

from __future__ import annotations

import asyncio
import time

import yaml

from fakes.github import FakeGitHub
from portico_bench.catalog import GROUP_PATH
from portico_bench.harness import Bench, Options, Result, Rows, RunMeasure, log
from support.operator import OperatorProcess

NS = "bench-scaffold"


def template(ns: str) -> Result:
    """A Template with five files, published to GitHub owner `acme`."""
    return {
        "apiVersion": "portico.dev/v1alpha1",
        "kind": "Template",
        "metadata": {"name": "svc", "namespace": ns},
        "spec": {
            "owner": "group:platform",
            "skeleton": {
                "files": [
                    {"path": f"src/file{i}.txt", "content": "{{ component.name }} " + str(i)}
                    for i in range(5)
                ]
            },
            "publish": {"github": {"owner": "acme", "repoName": "{{ component.name }}"}},
        },
    }


def scaffolded(name: str, ns: str) -> Result:
    return {
        "apiVersion": "portico.dev/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "type": "service",
            "lifecycle": "experimental",
            "owner": "group:team",
            "scaffold": {"templateRef": {"name": "svc"}},
        },
    }


async def run(bench: Bench) -> Result:
    api, ns = bench.api, NS
    count, limit = bench.options.scaffolds, bench.options.cold_timeout
    with FakeGitHub(orgs=["acme"], user="portico-bot") as fake:
        await api.ensure_namespace(ns)
        await api.ensure_namespace("portico-system")
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "portico-github-token"},
            "stringData": {"token": fake.token},
        }
        await api.request("POST", "/api/v1/namespaces/portico-system/secrets", json=secret)
        config = yaml.safe_dump(
            {
                "github": {"apiUrl": fake.base_url, "throttle": False},
                "tenancy": {"rules": [{"namespaces": [ns], "publish": {"githubOwners": ["acme"]}}]},
            }
        )
        cm = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "portico-config"},
            "data": {"config.yaml": config},
        }
        await api.request("POST", "/api/v1/namespaces/portico-system/configmaps", json=cm)
        await api.request("POST", f"{GROUP_PATH}/namespaces/{ns}/templates", json=template(ns))
        op = OperatorProcess(
            bench.cluster.kubeconfig, bench.work / "operator-scaffold.log", extra_args=("-n", ns)
        )
        await asyncio.to_thread(op.start)
        try:
            writes_before = len(fake.write_calls())
            started = time.monotonic()
            for i in range(count):
                await api.request(
                    "POST",
                    f"{GROUP_PATH}/namespaces/{ns}/components",
                    json=scaffolded(f"svc-{i}", ns),
                )
            done = 0
            while time.monotonic() - started < limit:
                items = (await api.list("components", ns))["items"]
                done = sum(
                    1
                    for c in items
                    if ((c.get("status") or {}).get("repository") or {}).get("commit")
                )
                if done == count:
                    break
                await asyncio.sleep(0.25)
            elapsed = time.monotonic() - started
            writes = (len(fake.write_calls()) - writes_before) / max(done, 1)
        finally:
            await asyncio.to_thread(op.stop)
    per_minute = done / elapsed * 60 if elapsed else 0.0
    fit = int(min(500, 80 * 60) // writes) if writes else 0
    log(
        f"scaffolds: {done}/{count} in {elapsed:.1f}s = {per_minute:.0f}/min, "
        f"{writes:.2f} GitHub writes each, {fit} fit in GitHub's hourly limit"
    )
    return {
        "count": count,
        "done": done,
        "seconds": elapsed,
        "per_minute": per_minute,
        "writes_per_scaffold": writes,
        "fit_per_hour": fit,
    }


def enabled(options: Options) -> bool:
    return options.scaffolds != 0


def verdicts(rows: Rows, sc: Result) -> None:
    rows.add(
        "-",
        "GitHub writes / scaffold",
        f"{sc['writes_per_scaffold']:.2f} ({sc['per_minute']:.0f} "
        f"scaffolds/min; {sc['fit_per_hour']}/h fit GitHub's limits)",
        "<= 5",
        sc["writes_per_scaffold"] <= 5,
    )


MEASURE = RunMeasure(key="scaffolding", enabled=enabled, run=run, verdicts=verdicts)
