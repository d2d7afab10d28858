"""Portico's configuration (config.yaml in the portico-config ConfigMap), as tests change it:
merged into what is there, and put back afterwards."""

import contextlib
import json
import tempfile
from collections.abc import Iterator
from typing import Any

import yaml

from support.kubectl import Kubectl

NAMESPACE, NAME = "portico-system", "portico-config"

# The tenancy rule for the suite's own namespaces (t-*, made by the `namespace` fixture): they
# may publish to the GitHub fake's orgs and to local bare repositories, and observe each
# other. Tenancy tests use namespaces no rule matches, as a hostile editor's would be.
TRUSTED: dict[str, Any] = {
    "namespaces": ["t-*"],
    "publish": {
        "githubOwners": ["acme", "platform"],
        "gitUrls": [f"file://{tempfile.gettempdir()}/*"],
    },
    "observe": {"namespaces": ["$self", "t-*"]},
}
# The examples' rule, as in `make demo`: the platform team's Templates publish to acme.
EXAMPLES: dict[str, Any] = {"namespaces": ["platform"], "publish": {"githubOwners": ["acme"]}}


def read_config(kubectl: Kubectl) -> dict[str, Any]:
    cm = kubectl.get("configmap", NAME, NAMESPACE)
    assert cm is not None, "portico-config is missing (is deploy/ applied?)"
    loaded = yaml.safe_load((cm.get("data") or {}).get("config.yaml") or "") or {}
    return dict(loaded)


def write_config(kubectl: Kubectl, config: dict[str, Any]) -> None:
    patch = json.dumps({"data": {"config.yaml": yaml.safe_dump(config)}})
    kubectl.run("patch", "configmap", NAME, "-n", NAMESPACE, "--type=merge", "-p", patch)


def with_rule(kubectl: Kubectl, rule: dict[str, Any]) -> dict[str, Any]:
    """The tenancy section with `rule` first (the first matching rule wins)."""
    tenancy = dict(read_config(kubectl).get("tenancy") or {})
    return {**tenancy, "rules": [rule, *(tenancy.get("rules") or [])]}


@contextlib.contextmanager
def changed_config(kubectl: Kubectl, **sections: Any) -> Iterator[dict[str, Any]]:
    """Replace top-level sections (argocd, github, grafana, prometheus, ...) for a while."""
    original = read_config(kubectl)
    write_config(kubectl, {**original, **sections})
    try:
        yield {**original, **sections}
    finally:
        write_config(kubectl, original)
