"""The operator's settings, from the environment (the Deployment sets them from its config)."""

import os

from pydantic import BaseModel, Field, ValidationError

from portico.errors import ConfigError


class Settings(BaseModel):
    namespaces: list[str] = Field(
        default_factory=list, description="Namespaces to watch; empty means all."
    )
    workers: int = Field(default=4, ge=1, le=64, description="Concurrent reconciles.")
    standalone: bool = Field(default=True, description="Run without kopf peering.")
    liveness: str | None = Field(
        default=None, description="Health endpoint, e.g. http://0.0.0.0:8080/healthz"
    )


def from_env(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    raw: dict[str, object] = {}
    if env.get("PORTICO_NAMESPACES"):
        raw["namespaces"] = [n.strip() for n in env["PORTICO_NAMESPACES"].split(",") if n.strip()]
    if env.get("PORTICO_WORKERS"):
        raw["workers"] = env["PORTICO_WORKERS"]
    if env.get("PORTICO_PEERING"):
        raw["standalone"] = False
    if env.get("PORTICO_LIVENESS"):
        raw["liveness"] = env["PORTICO_LIVENESS"]
    try:
        return Settings.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"PORTICO_{field.upper()}: {first['msg']}") from e
