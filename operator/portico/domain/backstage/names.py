"""Backstage's naming rules, and how a Backstage name becomes a Kubernetes name.

Backstage allows names Kubernetes does not: upper case, `_`, and `.` next to another
separator, up to 63 characters (`KubernetesValidatorFunctions.isValidObjectName`). Backstage
compares names case-insensitively, so lower-casing alone loses nothing: `MyService` and
`myservice` are one entity there. Anything else that has to change (`_`, a separator next to
another one, a leading or trailing `.`) could merge two distinct Backstage entities into one,
so such a name also gets a short digest of the original (lower-cased), which keeps the mapping
deterministic, across separate imports too, and one-to-one in practice. The original name is
kept in the `portico.dev/backstage-name` annotation, and export gives it back.
"""

import hashlib
import re

ORIGINAL_NAME = "portico.dev/backstage-name"
ORIGINAL_NAMESPACE = "portico.dev/backstage-namespace"
# JSON: {Portico reference: the Backstage reference it was mapped from}, where a name changed,
# so that a reference to an entity outside the catalog still exports as Backstage wrote it.
ORIGINAL_REFS = "portico.dev/backstage-refs"
DEFAULT_NAMESPACE = "default"

NAME_MAX = 63
DIGEST_LEN = 6

_OBJECT_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_LABEL = re.compile(r"^[a-z0-9]+(?:-+[a-z0-9]+)*$")
_TAG = re.compile(r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$")
_KUBE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def is_object_name(value: object) -> bool:
    """Backstage's rule for entity names, label and annotation key names, label values."""
    return (
        isinstance(value, str)
        and 1 <= len(value) <= NAME_MAX
        and bool(_OBJECT_NAME.fullmatch(value))
    )


def is_dns_label(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 63 and bool(_DNS_LABEL.fullmatch(value))


def is_dns_subdomain(value: object) -> bool:
    return (
        isinstance(value, str)
        and 1 <= len(value) <= 253
        and all(is_dns_label(part) for part in value.split("."))
    )


def is_namespace(value: object) -> bool:
    return is_dns_label(value)


def _prefixed(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = value.split("/")
    if len(parts) == 1:
        return is_object_name(parts[0])
    return len(parts) == 2 and is_dns_subdomain(parts[0]) and is_object_name(parts[1])


def is_label_key(value: object) -> bool:
    return _prefixed(value)


def is_label_value(value: object) -> bool:
    return value == "" or is_object_name(value)


def is_annotation_key(value: object) -> bool:
    return _prefixed(value)


def is_tag(value: object) -> bool:
    """Backstage's tag rule: `[a-z0-9:+#]` runs joined by single `-`, at most 63 characters."""
    return isinstance(value, str) and 1 <= len(value) <= 63 and bool(_TAG.fullmatch(value))


def is_kube_name(value: str) -> bool:
    """A Kubernetes object name (a DNS subdomain), kept to 63 characters for Portico's
    entities, whose names also become label values and Argo CD Application names."""
    return 1 <= len(value) <= NAME_MAX and bool(_KUBE_NAME.fullmatch(value))


def kube_name(name: str) -> str:
    """The Kubernetes name of a Backstage entity name (deterministic; see the module doc)."""
    lowered = name.lower()
    if is_kube_name(lowered):
        return lowered
    base = re.sub(r"[^a-z0-9]+", "-", lowered).strip("-") or "entity"
    digest = hashlib.sha256(lowered.encode()).hexdigest()[:DIGEST_LEN]
    base = base[: NAME_MAX - DIGEST_LEN - 1].rstrip("-")
    return f"{base}-{digest}"
