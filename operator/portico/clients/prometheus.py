"""Prometheus's HTTP API (/api/v1/query), async, with timeouts and typed errors."""

from typing import Any

import httpx

from portico.errors import ExternalError, TransientError, from_status

SYSTEM = "prometheus"


class PrometheusClient:
    def __init__(self, url: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.url, timeout=httpx.Timeout(10.0, connect=5.0), transport=transport
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query; returns the vector's samples ({metric: labels, value: [t, v]})."""
        try:
            response = await self._http.get("/api/v1/query", params={"query": promql})
        except httpx.TransportError as e:
            raise TransientError(SYSTEM, f"{self.url} is unreachable ({type(e).__name__})") from e
        try:
            body = response.json()
        except ValueError as e:
            if response.status_code >= 300:
                raise from_status(
                    SYSTEM, response.status_code, f"query failed: {response.text[:200]}"
                ) from e
            raise ExternalError(SYSTEM, "answer is not JSON", status=response.status_code) from e
        if response.status_code >= 300:
            error = str(body.get("error", "") if isinstance(body, dict) else body)[:200]
            raise from_status(SYSTEM, response.status_code, f"query failed: {error}")
        if body.get("status") != "success":
            raise ExternalError(
                SYSTEM, f"query failed: {body.get('error', '')[:200]}", status=response.status_code
            )
        result: list[dict[str, Any]] = body.get("data", {}).get("result", [])
        return result
