"""Grafana's HTTP API (folders, dashboards, search): async httpx, explicit timeouts, bounded
retries with backoff on 5xx/429, a service-account token, errors a person can read."""

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import httpx

from portico.errors import (
    Conflict,
    ExternalError,
    NotFound,
    TransientError,
    from_status,
)

SYSTEM = "grafana"
RETRIES = (0.5, 1.0, 2.0)
# Dashboard search, paged: Grafana's default page size (it allows up to 5000), and a cap on
# pages so that one search of a very large Grafana stays bounded.
SEARCH_PAGE_SIZE = 1000
SEARCH_MAX_PAGES = 5


@dataclass(frozen=True)
class SearchResult:
    """Search hits, page after page; `truncated` when the last page allowed was full (there
    may be more than were read)."""

    hits: list[dict[str, Any]]
    truncated: bool


class GrafanaClient:
    def __init__(
        self, url: str, token: str, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(10.0, connect=5.0),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        for attempt, delay in enumerate((*RETRIES, None)):
            try:
                response = await self._http.request(method, path, **kwargs)
            except httpx.TransportError as e:
                if delay is None:
                    raise TransientError(
                        SYSTEM, f"{self.url} is unreachable ({type(e).__name__})"
                    ) from e
                await asyncio.sleep(delay)
                continue
            if (response.status_code >= 500 or response.status_code == 429) and delay is not None:
                await asyncio.sleep(delay * (attempt + 1))
                continue
            return self._result(method, path, response)
        raise AssertionError("unreachable")

    def _result(self, method: str, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        if status < 300:
            try:
                return response.json() if response.content else {}
            except ValueError as e:  # a proxy's HTML page, a cut-off answer
                raise ExternalError(
                    SYSTEM,
                    f"{method} {path}: the answer is not JSON",
                    status=status,
                    body=response.text,
                ) from e
        try:
            body = response.json()
            message = str(body.get("message", "")) if isinstance(body, dict) else str(body)
        except ValueError:
            body, message = {}, response.text[:200]
        text = f"{method} {path}: {message}"
        # 412 is Grafana's version mismatch or name clash; the body (e.g. name-exists) is kept.
        raise from_status(
            SYSTEM,
            status,
            text,
            body=response.text,
            conflicts=(409, 412),
            denied_hint="check the service-account token",
        )

    async def folder(self, uid: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await self._request("GET", f"/api/folders/{uid}")
            return found
        except NotFound:
            return None

    async def create_folder(self, uid: str, title: str) -> None:
        try:
            await self._request("POST", "/api/folders", json={"uid": uid, "title": title})
        except Conflict:
            if await self.folder(uid) is None:  # a folder with that title is someone else's
                raise

    async def delete_folder(self, uid: str) -> None:
        with contextlib.suppress(NotFound):
            await self._request("DELETE", f"/api/folders/{uid}")

    async def dashboard(self, uid: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await self._request("GET", f"/api/dashboards/uid/{uid}")
            return found
        except NotFound:
            return None

    async def save_dashboard(
        self, dashboard: dict[str, Any], folder_uid: str, *, overwrite: bool, message: str
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._request(
            "POST",
            "/api/dashboards/db",
            json={
                "dashboard": dashboard,
                "folderUid": folder_uid,
                "overwrite": overwrite,
                "message": message,
            },
        )
        return result

    async def delete_dashboard(self, uid: str) -> None:
        with contextlib.suppress(NotFound):
            await self._request("DELETE", f"/api/dashboards/uid/{uid}")

    async def search(self, **params: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self._request("GET", "/api/search", params=params)
        return found

    async def search_dashboards(
        self, *, page_size: int = SEARCH_PAGE_SIZE, max_pages: int = SEARCH_MAX_PAGES
    ) -> SearchResult:
        """Every dashboard the token may see (`type=dash-db`), `page_size` a page, at most
        `max_pages` pages: Grafana's "Search API", `limit` and `page` (from 1)."""
        hits: list[dict[str, Any]] = []
        for page in range(1, max_pages + 1):
            params = {"type": "dash-db", "limit": page_size, "page": page}
            found = await self._request("GET", "/api/search", params=params)
            if not isinstance(found, list):
                raise ExternalError(SYSTEM, "GET /api/search: the answer is not a list")
            hits.extend(hit for hit in found if isinstance(hit, dict))
            if len(found) < page_size:
                return SearchResult(hits, truncated=False)
        return SearchResult(hits, truncated=True)
