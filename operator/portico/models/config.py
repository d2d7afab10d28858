"""The operator's cluster-admin configuration: `config.yaml` in the portico-config ConfigMap.

```yaml
argocd:
  namespace: argocd                 # where Applications are created
  rules:                            # first matching rule wins; none: the default below
    - namespaces: [payments]        # Component namespaces this rule is for, and/or
      namespaceSelector: {matchLabels: {team: payments}}
      projects: [payments]          # Argo CD projects they may use
      destinations:                 # where they may deploy (namespace globs, clusters)
        - {namespace: "payments-*", server: "https://kubernetes.default.svc"}
```
Without a matching rule a Component may use project `default` and deploy only to its own
namespace in the cluster Portico runs in.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

IN_CLUSTER = "https://kubernetes.default.svc"


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class AllowedDestination(_Config):
    namespace: str = Field(description="Namespace glob; `$self` is the Component's namespace.")
    server: str | None = Field(default=None, description="Cluster URL; none: in-cluster.")
    name: str | None = Field(default=None, description="Argo CD cluster name, instead of server.")


class GuardrailRule(_Config):
    namespaces: list[str] = Field(default_factory=list)
    namespace_selector: dict[str, Any] | None = Field(default=None, alias="namespaceSelector")
    projects: list[str] = Field(default_factory=lambda: ["default"])
    destinations: list[AllowedDestination] = Field(
        default_factory=lambda: [AllowedDestination(namespace="$self")]
    )


class ArgoCDConfig(_Config):
    namespace: str = "argocd"
    rules: list[GuardrailRule] = Field(default_factory=list)


class OperatorConfig(_Config):
    argocd: ArgoCDConfig = Field(default_factory=ArgoCDConfig)


DEFAULT_RULE = GuardrailRule()
