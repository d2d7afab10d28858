"""The ConfigMaps a Template's skeleton lists (spec.skeleton.configMaps), read by name."""

import contextlib

from portico.clients.kube import KubeClient
from portico.errors import NotFound
from portico.models.template import TemplateSpec


class SkeletonSource:
    def __init__(self, kube: KubeClient) -> None:
        self._kube = kube

    async def config_maps(
        self, namespace: str, template: TemplateSpec
    ) -> dict[str, dict[str, str]]:
        """name -> data of each listed ConfigMap that exists (a missing one is a problem the
        Template check reports)."""
        found: dict[str, dict[str, str]] = {}
        for cm in template.skeleton.config_maps if template.skeleton else []:
            with contextlib.suppress(NotFound):
                obj = await self._kube.get(f"/api/v1/namespaces/{namespace}/configmaps/{cm.name}")
                found[cm.name] = dict(obj.get("data") or {})
        return found
