"""The operator's settings, from the environment (the Deployment sets them from its config)."""

import os

from pydantic import BaseModel, Field, ValidationError, model_validator

from portico.domain.sharding import Sharding
from portico.errors import ConfigError


class Settings(BaseModel):
    namespaces: list[str] = Field(
        default_factory=list, description="Namespaces to watch; empty means all."
    )
    workers: int = Field(default=4, ge=1, le=64, description="Concurrent reconciles.")
    peering: str | None = Field(
        default=None,
        description="kopf peering name (several replicas, one active); none: standalone.",
    )
    peering_lifetime: int = Field(
        default=60, ge=2, le=3600, description="Seconds before a silent peer is considered gone."
    )
    config_namespace: str = Field(
        default="portico-system", description="Namespace of the portico-config ConfigMap."
    )
    config_name: str = Field(default="portico-config", description="The ConfigMap's name.")
    shards: int = Field(
        default=1, ge=1, le=1024, description="How many shards split the writes (README: Sharding)."
    )
    shard: int = Field(default=0, ge=0, description="This process's shard, 0-based.")
    metrics_port: int | None = Field(default=None, ge=1, le=65535, description="/metrics port.")
    liveness: str | None = Field(
        default=None, description="Health endpoint, e.g. http://0.0.0.0:8080/healthz"
    )
    backstage_export: bool = Field(
        default=False,
        description="Serve /backstage/catalog-info.yaml beside /metrics (read-only).",
    )

    @model_validator(mode="after")
    def _shard_exists(self) -> "Settings":
        if self.shard >= self.shards:
            raise ValueError(
                f"PORTICO_SHARD: {self.shard} is not a shard of PORTICO_SHARDS={self.shards} "
                f"(0 to {self.shards - 1})"
            )
        return self

    @property
    def sharding(self) -> Sharding:
        return Sharding(shards=self.shards, shard=self.shard)


def from_env(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    raw: dict[str, object] = {}
    if env.get("PORTICO_NAMESPACES"):
        raw["namespaces"] = [n.strip() for n in env["PORTICO_NAMESPACES"].split(",") if n.strip()]
    if env.get("PORTICO_WORKERS"):
        raw["workers"] = env["PORTICO_WORKERS"]
    if env.get("PORTICO_PEERING"):
        raw["peering"] = env["PORTICO_PEERING"]
    if env.get("PORTICO_PEERING_LIFETIME"):
        raw["peering_lifetime"] = env["PORTICO_PEERING_LIFETIME"]
    if env.get("POD_NAMESPACE") or env.get("PORTICO_CONFIG_NAMESPACE"):
        raw["config_namespace"] = env.get("PORTICO_CONFIG_NAMESPACE") or env["POD_NAMESPACE"]
    if env.get("PORTICO_CONFIG_NAME"):
        raw["config_name"] = env["PORTICO_CONFIG_NAME"]
    if env.get("PORTICO_SHARDS"):
        raw["shards"] = env["PORTICO_SHARDS"]
    if env.get("PORTICO_SHARD"):
        raw["shard"] = env["PORTICO_SHARD"]
    if env.get("PORTICO_METRICS_PORT"):
        raw["metrics_port"] = env["PORTICO_METRICS_PORT"]
    if env.get("PORTICO_BACKSTAGE_EXPORT"):
        raw["backstage_export"] = env["PORTICO_BACKSTAGE_EXPORT"]
    if env.get("PORTICO_LIVENESS"):
        raw["liveness"] = env["PORTICO_LIVENESS"]
    try:
        return Settings.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        if not field:  # a rule across fields names its variables itself
            message = str(first["msg"]).removeprefix("Value error, ")
            raise ConfigError(message) from e
        raise ConfigError(f"PORTICO_{field.upper()}: {first['msg']}") from e
