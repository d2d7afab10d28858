"""Posting Kubernetes Events: a courtesy that never fails a reconcile or a cleanup.

A namespace being deleted takes no new Events (the API server answers 403 "being
terminated"); that is expected while its Components are cleaned up, so it is not a warning.
"""

import logging
from collections.abc import Mapping
from typing import Any

from portico.clients.kube import KubeClient
from portico.errors import PorticoError

log = logging.getLogger("portico.events")


async def post_event(kube: KubeClient, event: Mapping[str, Any], what: str) -> bool:
    """Create the Event in its own namespace; False (logged) when the API server refused."""
    try:
        await kube.create_event(event["metadata"]["namespace"], event)
    except PorticoError as e:
        level = logging.DEBUG if "being terminated" in str(e) else logging.WARNING
        log.log(level, "could not post %s: %s", what, e)
        return False
    return True
