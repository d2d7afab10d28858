"""Template updates decided: which version a repository is on, whether it is behind, what
its UpToDate condition says, and how a Template counts its Components. Pure: no I/O.

A Template's *version* is a digest of what affects a render: `parameters` (their defaults
fill values in), the `skeleton`, and the content of the ConfigMaps it lists. Its title,
tests, publish target and defaults for deploy and observe are not part of it, so editing
them proposes nothing. A repository is *at* a version with values when its default branch
holds that render: `status.repository.templateVersion` and `.values`. A newer render that is
proposed and not merged yet is `status.repository.update`.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from portico.domain.conditions import UP_TO_DATE, cond
from portico.domain.refs import EntityKey
from portico.models.component import ComponentSpec
from portico.models.template import TemplateSpec

VERSION_LENGTH = 12
PULL_REQUEST = "PullRequest"
MERGED = "merged"
OPEN = "open"
CLOSED = "closed"

# UpToDate reasons, and how a Template counts them (status.updates).
REASON_COUNTS = {
    "UpToDate": "upToDate",
    "UpdateProposed": "open",
    "UpdateBranchPushed": "open",
    "UpdateConflicts": "conflicting",
    "UpdatesDisabled": "disabled",
    "UpdateDeclined": "declined",
    "InvalidValues": "failed",
    "RenderFailed": "failed",
    "TemplateInvalid": "failed",
    "UpdateFailed": "failed",
}
COUNT_ORDER = ("upToDate", "open", "conflicting", "declined", "pending", "failed", "disabled")


def template_version(template: TemplateSpec, config_maps: Mapping[str, Mapping[str, str]]) -> str:
    """A digest of everything that affects a render of the Template."""
    skeleton = template.skeleton
    inputs = {
        "parameters": template.parameters,
        "skeleton": skeleton.wire() if skeleton is not None else None,
        "configMaps": {
            cm.name: dict(config_maps.get(cm.name) or {})
            for cm in (skeleton.config_maps if skeleton is not None else [])
        },
    }
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:VERSION_LENGTH]


def update_policy(template: TemplateSpec, spec: ComponentSpec) -> str:
    """The Component's spec.scaffold.updatePolicy, else the Template's."""
    own = spec.scaffold.update_policy if spec.scaffold is not None else None
    return own or template.update_policy


def same_values(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    return json.dumps(a or {}, sort_keys=True) == json.dumps(b or {}, sort_keys=True)


def rendered_at(
    rendered: Mapping[str, Any] | None, version: str, values: Mapping[str, Any]
) -> bool:
    """Is this render (the repository's, or its update's) of `version` with `values`?"""
    return (
        rendered is not None
        and rendered.get("templateVersion") == version
        and same_values(rendered.get("values"), values)
    )


def promote(repository: Mapping[str, Any]) -> dict[str, Any]:
    """The update was merged: the default branch now holds its render."""
    out = dict(repository)
    update = out.pop("update", None) or {}
    out["templateVersion"] = update.get("templateVersion")
    out["values"] = update.get("values") or {}
    return out


def up_to_date(tkey: EntityKey, version: str) -> dict[str, Any]:
    return cond(UP_TO_DATE, True, "UpToDate", f"on version {version} of template {_name(tkey)}")


def _name(tkey: EntityKey) -> str:
    return f"{tkey.namespace}/{tkey.name}"


def update_condition(update: Mapping[str, Any], tkey: EntityKey, url: str) -> dict[str, Any]:
    """What a proposed update's state means for the Component."""
    version = update.get("templateVersion")
    pull = update.get("pullRequest") or {}
    branch = update.get("branch")
    if not pull:
        return cond(
            UP_TO_DATE,
            False,
            "UpdateBranchPushed",
            f"version {version} of template {_name(tkey)} is on branch {branch} of {url}: "
            "merge it into the default branch",
        )
    number, link = pull.get("number"), pull.get("url")
    if pull.get("state") == CLOSED:
        return cond(
            UP_TO_DATE,
            False,
            "UpdateDeclined",
            f"pull request #{number} (version {version} of template {_name(tkey)}) was closed "
            "without merging; the next change of the Template or the values proposes again",
        )
    if pull.get("mergeable") is False:
        return cond(
            UP_TO_DATE,
            False,
            "UpdateConflicts",
            f"pull request #{number} (version {version} of template {_name(tkey)}) conflicts "
            f"with the default branch; resolve it at {link}",
        )
    return cond(
        UP_TO_DATE,
        False,
        "UpdateProposed",
        f"pull request #{number} proposes version {version} of template {_name(tkey)}: {link}",
    )


def disabled(tkey: EntityKey, version: str) -> dict[str, Any]:
    return cond(
        UP_TO_DATE,
        False,
        "UpdatesDisabled",
        f"version {version} of template {_name(tkey)} differs from the repository's; "
        "updatePolicy None proposes nothing",
    )


def template_not_ready(tview_status: Mapping[str, Any], version: str) -> str | None:
    """Why the Template's version may not be rolled out yet (None: it may).

    Only a version the Template check has seen (status.version), that is Valid and whose
    tests do not fail, reaches repositories: a broken Template is never proposed fleet-wide.
    """
    if tview_status.get("version") != version:
        return "is being checked"
    conditions = {c.get("type"): c for c in tview_status.get("conditions") or []}
    if (conditions.get("Valid") or {}).get("status") != "True":
        return "is not Valid"
    if (conditions.get("TestsPassed") or {}).get("status") == "False":
        return "fails its tests"
    return None


def rollout_gate(tview_status: Mapping[str, Any]) -> tuple[str | None, bool]:
    """What Components wait on in a Template's status: its version, and whether it may roll
    out (in the Template's neighbourhood, so a change queues its Components)."""
    version = tview_status.get("version")
    ready = version is not None and template_not_ready(tview_status, str(version)) is None
    return (str(version) if version else None, ready)


def component_update_state(status: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """A Component's version and UpToDate reason (what its Template counts)."""
    version = (status.get("repository") or {}).get("templateVersion")
    reason = next(
        (c.get("reason") for c in status.get("conditions") or [] if c.get("type") == UP_TO_DATE),
        None,
    )
    return (version, reason)


def template_counts(
    states: Iterable[tuple[str | None, str | None]],
) -> tuple[list[dict[str, Any]], dict[str, int], str]:
    """status.versions, status.updates and status.updateSummary of a Template, from its
    scaffolded Components' (version, UpToDate reason)."""
    versions: dict[str, int] = {}
    counts = dict.fromkeys(COUNT_ORDER, 0)
    total = 0
    for version, reason in states:
        total += 1
        label = version or "unknown"
        versions[label] = versions.get(label, 0) + 1
        counts[REASON_COUNTS.get(reason or "", "pending")] += 1
    listing = [
        {"version": v, "components": n}
        for v, n in sorted(versions.items(), key=lambda item: (-item[1], item[0]))
    ]
    parts = [f"{counts['upToDate']}/{total} up to date"]
    parts += [f"{counts[k]} {k}" for k in COUNT_ORDER[1:] if counts[k]]
    return listing, counts, ", ".join(parts)
