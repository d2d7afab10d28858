"""Tokens from Secrets in Portico's namespace (key `token`); never logged."""

import base64

from portico.clients.kube import KubeClient
from portico.errors import NotFound


async def read_token(kube: KubeClient, namespace: str, name: str) -> str | None:
    try:
        secret = await kube.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")
    except NotFound:
        return None
    raw = (secret.get("data") or {}).get("token")
    return base64.b64decode(raw).decode().strip() if raw else None
