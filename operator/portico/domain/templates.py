"""Which Template a Component is scaffolded from: one resolution for every step."""

from typing import Protocol

from portico.domain.entity import EntityView
from portico.domain.refs import EntityKey
from portico.models.component import ComponentSpec
from portico.models.template import TemplateSpec


class Entities(Protocol):
    def get(self, key: EntityKey) -> EntityView | None: ...


def template_key(view: EntityView) -> EntityKey | None:
    """spec.scaffold.templateRef as a key (its namespace defaults to the Component's)."""
    spec = view.spec
    if not isinstance(spec, ComponentSpec) or spec.scaffold is None:
        return None
    ref = spec.scaffold.template_ref
    return EntityKey("template", ref.namespace or view.key.namespace, ref.name)


def template_view(view: EntityView, graph: Entities) -> EntityView | None:
    """The Template's view, when the Component names one and it exists and parses."""
    key = template_key(view)
    found = graph.get(key) if key is not None else None
    return found if found is not None and isinstance(found.spec, TemplateSpec) else None


def template_of(view: EntityView, graph: Entities) -> TemplateSpec | None:
    found = template_view(view, graph)
    return found.spec if found is not None and isinstance(found.spec, TemplateSpec) else None
