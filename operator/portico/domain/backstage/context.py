"""Where imported entities go: Backstage namespaces to Kubernetes namespaces, and Backstage
references to Portico's."""

from dataclasses import dataclass

from portico.domain.backstage.names import DEFAULT_NAMESPACE, kube_name
from portico.domain.refs import SERVED_KINDS, EntityKey, parse_ref


@dataclass(frozen=True)
class ImportContext:
    """`namespace`: the Kubernetes namespace of Backstage's `default` namespace (`-n`); any
    other Backstage namespace keeps its name (Backstage namespaces are DNS labels already)."""

    namespace: str = DEFAULT_NAMESPACE

    def kube_namespace(self, backstage_namespace: str) -> str:
        return self.namespace if backstage_namespace == DEFAULT_NAMESPACE else backstage_namespace

    def ref(self, ref: str, *, default_kind: str | None, referrer_namespace: str) -> EntityKey:
        """A Backstage reference, resolved as Backstage does (the referrer's namespace, the
        field's default kind), then mapped: the namespace as above, and the name of a kind
        Portico serves as `kube_name` maps it; other kinds (group, user, resource, domain)
        keep their name, which Portico's reference rules accept. Raises InvalidRef."""
        key = parse_ref(ref, default_kind=default_kind, default_namespace=referrer_namespace)
        name = kube_name(key.name) if key.kind in SERVED_KINDS else key.name
        return EntityKey(key.kind, self.kube_namespace(key.namespace), name)

    def ref_string(self, key: EntityKey, *, default_kind: str | None, namespace: str) -> str:
        """The shortest reference to `key` from an entity in Kubernetes namespace `namespace`
        (the kind left out where it is the field's default, the namespace where it is the
        referrer's)."""
        text = key.name if key.namespace == namespace else f"{key.namespace}/{key.name}"
        return text if key.kind == default_kind else f"{key.kind}:{text}"
