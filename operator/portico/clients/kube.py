"""A small async Kubernetes client for the operator's own writes (status, events).

kopf does the watching; this client does the few writes Portico makes, on one long-lived
httpx connection pool with explicit timeouts. Credentials come from the same places kubectl
and kopf look (in-cluster service account, else $KUBECONFIG / ~/.kube/config), loaded with
the official client's config loader, so tokens are never logged or copied into messages.
"""

import json
import os
import ssl
import time
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from typing import Any

import httpx
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from portico.errors import (
    Conflict,
    NotFound,
    TransientError,
    from_status,
)

SYSTEM = "kubernetes"
USER_AGENT = "portico-operator"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class _TokenAuth(httpx.Auth):
    """Bearer token from the loaded configuration, refreshed as the official client does."""

    def __init__(self, cfg: Any) -> None:
        self._cfg = cfg
        self._checked = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        hook: Callable[[Any], None] | None = getattr(self._cfg, "refresh_api_key_hook", None)
        if hook is not None and time.monotonic() - self._checked > 60:
            hook(self._cfg)
            self._checked = time.monotonic()
        # The official client's own view of its credentials (kubeconfig token, exec plugin,
        # in-cluster token): whatever header it would send, we send.
        for setting in self._cfg.auth_settings().values():
            if setting.get("in") == "header" and setting.get("value"):
                request.headers[setting["key"]] = setting["value"]
        yield request


def load_configuration() -> Any:
    """The official client's Configuration: in-cluster first, then kubeconfig."""
    cfg = k8s_client.Configuration()
    try:
        k8s_config.load_incluster_config(client_configuration=cfg)
    except k8s_config.ConfigException:
        # $KUBECONFIG is read now, not when the kubernetes package was imported.
        path = os.environ.get("KUBECONFIG") or None
        k8s_config.load_kube_config(config_file=path, client_configuration=cfg)
    return cfg


class KubeClient:
    """Writes to the API server. Raises portico.errors exceptions, never httpx ones."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    @classmethod
    def from_environment(cls, *, transport: httpx.AsyncBaseTransport | None = None) -> "KubeClient":
        cfg = load_configuration()
        ctx = ssl.create_default_context(cafile=cfg.ssl_ca_cert or None)
        if not cfg.verify_ssl:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if cfg.cert_file:
            ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
        http = httpx.AsyncClient(
            base_url=cfg.host,
            verify=ctx,
            auth=_TokenAuth(cfg),
            timeout=TIMEOUT,
            headers={"User-Agent": USER_AGENT},
            transport=transport,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=20),
        )
        return cls(http)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(
        self, method: str, url: str, *, body: Any = None, content_type: str = "application/json"
    ) -> dict[str, Any]:
        try:
            response = await self._http.request(
                method,
                url,
                content=json.dumps(body) if body is not None else None,
                headers={"Content-Type": content_type},
            )
        except httpx.TimeoutException as e:
            raise TransientError(SYSTEM, f"{method} {url} timed out") from e
        except httpx.TransportError as e:
            raise TransientError(SYSTEM, f"{method} {url} failed: {type(e).__name__}") from e
        if response.status_code < 300:
            result: dict[str, Any] = response.json() if response.content else {}
            return result
        text = response.text
        try:
            message = str(response.json().get("message", text))
        except ValueError:
            message = text
        retry = response.headers.get("Retry-After")
        raise from_status(
            SYSTEM,
            response.status_code,
            message,
            body=text,
            retry_after=float(retry) if retry and retry.isdigit() else None,
            denied_hint="not allowed by the operator's RBAC",
        )

    async def patch_status(
        self,
        group: str,
        version: str,
        plural: str,
        namespace: str,
        name: str,
        patch: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Merge-patch `status` through the status subresource; returns the new object."""
        url = f"/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}/status"
        return await self._request(
            "PATCH", url, body={"status": patch}, content_type="application/merge-patch+json"
        )

    async def list_objects(
        self, group: str, version: str, plural: str, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        """LIST a custom resource, in one namespace or all of them (for the CLI)."""
        where = f"/namespaces/{namespace}" if namespace else ""
        result = await self._request("GET", f"/apis/{group}/{version}{where}/{plural}")
        items: list[dict[str, Any]] = result.get("items", [])
        return items

    async def apply(
        self, path: str, body: Mapping[str, Any], *, field_manager: str
    ) -> dict[str, Any]:
        """Server-side apply `body` at `path` (the object's URL) as `field_manager`."""
        return await self._request(
            "PATCH",
            f"{path}?fieldManager={field_manager}&force=true",
            body=body,
            content_type="application/apply-patch+yaml",
        )

    async def delete(self, path: str, *, propagation: str = "Foreground") -> None:
        """DELETE an object; NotFound if it (or its resource type) does not exist."""
        await self._request(
            "DELETE",
            path,
            body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation},
        )

    async def get(self, path: str) -> dict[str, Any]:
        return await self._request("GET", path)

    async def resource_exists(self, group: str, version: str, plural: str) -> bool:
        """Is `plural` served in group/version (e.g. is Argo CD's CRD installed)?"""
        try:
            found = await self._request("GET", f"/apis/{group}/{version}")
        except NotFound:
            return False
        return any(r.get("name") == plural for r in found.get("resources", []))

    async def watch(
        self, path: str, *, resource_version: str | None = None, seconds: int = 300
    ) -> AsyncIterator[dict[str, Any]]:
        """Stream watch events (dicts with type and object) until the server ends the watch."""
        params = f"watch=true&timeoutSeconds={seconds}&allowWatchBookmarks=true"
        if resource_version:
            params += f"&resourceVersion={resource_version}"
        sep = "&" if "?" in path else "?"
        try:
            async with self._http.stream(
                "GET", f"{path}{sep}{params}", timeout=httpx.Timeout(seconds + 30, connect=10)
            ) as response:
                if response.status_code >= 300:
                    await response.aread()
                    raise TransientError(
                        SYSTEM, f"watch {path}: {response.text[:200]}", status=response.status_code
                    )
                async for line in response.aiter_lines():
                    if line.strip():
                        yield json.loads(line)
        except httpx.TransportError as e:
            raise TransientError(SYSTEM, f"watch {path} failed: {type(e).__name__}") from e

    async def ensure_peering(self, name: str) -> bool:
        """Create kopf's ClusterKopfPeering `name` unless it exists; True if created."""
        body = {
            "apiVersion": "kopf.dev/v1",
            "kind": "ClusterKopfPeering",
            "metadata": {"name": name},
        }
        try:
            await self._request("POST", "/apis/kopf.dev/v1/clusterkopfpeerings", body=body)
        except Conflict:
            return False
        return True

    async def create_event(self, namespace: str, event: Mapping[str, Any]) -> None:
        """Create an events.k8s.io/v1 Event (shown by `kubectl describe`)."""
        await self._request(
            "POST", f"/apis/events.k8s.io/v1/namespaces/{namespace}/events", body=event
        )
