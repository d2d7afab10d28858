"""A kubeconfig for a ServiceAccount, with a token from the TokenRequest API, so the real
API server enforces that account's RBAC on whoever uses it."""

from pathlib import Path

import yaml

from support.kubectl import Kubectl


def service_account_kubeconfig(kubectl: Kubectl, namespace: str, name: str, path: Path) -> Path:
    token = kubectl.run("create", "token", name, "-n", namespace, "--duration=2h").stdout.strip()
    admin = yaml.safe_load(kubectl.kubeconfig.read_text())
    cluster = admin["clusters"][0]["cluster"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": cluster}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": "local", "user": name}}],
        "current-context": name,
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path
