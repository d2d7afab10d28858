"""Pydantic models mirroring the CRDs: the single source of truth for their schemas.

`portico.crdgen` turns these models into the CustomResourceDefinitions under `crds/`;
the operator parses every object it watches into them. No I/O happens here.
"""

from portico.models.api import ApiSpec, ApiStatus
from portico.models.common import (
    Condition,
    EntityMeta,
    Health,
    HealthSignal,
    Relation,
)
from portico.models.component import ComponentSpec, ComponentStatus
from portico.models.kinds import KINDS, KindInfo, kind_info
from portico.models.system import SystemSpec, SystemStatus
from portico.models.template import TemplateSpec, TemplateStatus

__all__ = [
    "KINDS",
    "ApiSpec",
    "ApiStatus",
    "ComponentSpec",
    "ComponentStatus",
    "Condition",
    "EntityMeta",
    "Health",
    "HealthSignal",
    "KindInfo",
    "Relation",
    "SystemSpec",
    "SystemStatus",
    "TemplateSpec",
    "TemplateStatus",
    "kind_info",
]
