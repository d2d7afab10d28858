"""Watch the four kinds: keep one index (entities) and feed the engine.

kopf calls event handlers only after every index is populated, so the engine never decides
on a half-loaded catalog (a restart does not flap RefsResolved, and writes nothing). The
reverse relations (incoming edges, workload and Application watchers) are derived by the
engine (reconcilers/relations.py): one kopf index per event, not four.
"""

from typing import Any

import kopf

from portico.domain.entity import EntityView
from portico.domain.refs import EntityKey
from portico.models.kinds import GROUP, KINDS, VERSION


async def entities(body: kopf.Body, memo: Any, **_: Any) -> dict[EntityKey, EntityView]:
    view = memo.views.view_of(body)
    return {view.key: view}


async def on_event(*, type: str, body: kopf.Body, memo: Any, **kwargs: Any) -> None:
    """Every watch event of the four kinds; kwargs carry kopf's live indexes by name."""
    engine = memo.engine
    engine.bind(kwargs)
    deleted = type == "DELETED"
    engine.observe(memo.views.view_of(body), deleted=deleted)
    if deleted:
        memo.views.forget(body)


for _info in KINDS:
    kopf.index(GROUP, VERSION, _info.plural, id="entities")(entities)
    kopf.on.event(GROUP, VERSION, _info.plural, id=f"{_info.plural}-events")(on_event)
