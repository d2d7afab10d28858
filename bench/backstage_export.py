"""The cost of /backstage/catalog-info.yaml: one build of the document for N entities.

The operator builds it from memory (its EntityViews) in a worker thread, at most once per
10 s. This prints, for each N, the build time and the document's size, beside a floor: YAML
serialisation of the same objects as the API server returns them (the least any exporter
spends writing them out). Run: `.venv/bin/python bench/backstage_export.py --sizes 1000,10000`.
"""

import argparse
import time
from typing import Any

import yaml

from portico.domain.entity import view_from_body
from portico.reconcilers.backstage_export import render


def catalog(n: int) -> list[dict[str, Any]]:
    """N Components (with a System per 50 and an API per 10), with statuses like the
    operator's: health, relations, a repository, an Application."""
    objects: list[dict[str, Any]] = []
    for i in range(n // 50 or 1):
        objects.append(
            {
                "kind": "System",
                "metadata": {"name": f"system-{i}", "namespace": "bench", "uid": f"s{i}"},
                "spec": {"owner": "group:team-a", "description": "a system"},
                "status": {"health": {"status": "Healthy"}},
            }
        )
    for i in range(n // 10 or 1):
        objects.append(
            {
                "kind": "API",
                "metadata": {"name": f"api-{i}", "namespace": "bench", "uid": f"a{i}"},
                "spec": {
                    "type": "openapi",
                    "lifecycle": "production",
                    "owner": "group:team-a",
                    "system": f"system-{i % (n // 50 or 1)}",
                    "definition": "openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths: {}\n",
                },
                "status": {"health": {"status": "Healthy"}},
            }
        )
    for i in range(n):
        objects.append(
            {
                "kind": "Component",
                "metadata": {
                    "name": f"svc-{i}",
                    "namespace": "bench",
                    "uid": f"c{i}",
                    "labels": {"acme.com/tier": "1"},
                    "annotations": {"backstage.io/techdocs-ref": "dir:."},
                },
                "spec": {
                    "type": "service",
                    "lifecycle": "production",
                    "owner": "group:team-a",
                    "system": f"system-{i % (n // 50 or 1)}",
                    "providesApis": [f"api-{i % (n // 10 or 1)}"],
                    "tags": ["python"],
                    "observe": {"kubernetes": {}},
                },
                "status": {
                    "health": {"status": "Healthy", "signals": [{"source": "kubernetes"}]},
                    "repository": {"url": f"https://github.com/acme/svc-{i}.git"},
                    "argocd": {"application": f"argocd/bench-svc-{i}", "sync": "Synced"},
                    "relations": [{"type": "ownedBy", "target": "group:bench/team-a"}],
                },
            }
        )
    return objects


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    print(f"{'N':>7} {'entities':>9} {'build s':>8} {'floor s':>8} {'ratio':>6} {'MiB':>6}")
    for n in (int(s) for s in args.sizes.split(",")):
        objects = catalog(n)
        views = [view_from_body(str(o["kind"]), o) for o in objects]
        start = time.perf_counter()
        body = render(views)
        build = time.perf_counter() - start
        start = time.perf_counter()
        yaml.dump_all(objects, Dumper=dumper, sort_keys=False)
        floor = time.perf_counter() - start
        print(
            f"{n:>7} {len(views):>9} {build:>8.2f} {floor:>8.2f} {build / floor:>6.1f} "
            f"{len(body) / 2**20:>6.1f}"
        )


if __name__ == "__main__":
    main()
