"""Scorecards: the `scorecards` section of portico-config (checks in CEL, grouped in levels).

```yaml
scorecards:
  levels: [bronze, silver, gold]           # lowest first; an entity's level is the highest
                                           # whose checks, and every lower level's, all pass
  checks:                                  # absent: Portico's defaults (domain/scorecard_defaults)
    - name: has-docs
      level: silver
      expression: 'has(self.status.links) && self.status.links.exists(l, l.type == "docs")'
      message: add a backstage.io/techdocs-ref annotation   # said when the check fails
      kinds: [component]                   # default; also api, system, template
      types: [service]                     # spec.type; empty: any
      lifecycles: [production]             # spec.lifecycle; empty: any
      namespaces: ["team-*"]               # shell patterns; empty: any
```

A check's expression is compiled when the configuration is read: one that does not compile,
or calls a function CEL's library does not have, fails the whole configuration with the
check named, and the last good configuration stays in force (reconcilers/config_source.py).
"""

import functools
import re
from typing import Any, Literal

import cel
from pydantic import BaseModel, ConfigDict, Field, model_validator

CHECK_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
NO_LEVEL = "none"  # the level of an entity that passes no level
# The functions the CEL library evaluates (common-expression-language 0.10; the macros all,
# exists, exists_one, filter, has and map expand to operators): anything else compiles but
# fails every evaluation, so it is refused when the configuration is read instead.
FUNCTIONS = frozenset(
    {
        "bytes", "contains", "double", "duration", "dyn", "endsWith", "int", "matches",
        "size", "startsWith", "string", "timestamp", "type", "uint",
        "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear", "getFullYear",
        "getHours", "getMilliseconds", "getMinutes", "getMonth", "getSeconds",
    }
)  # fmt: skip
Kind = Literal["component", "api", "system", "template"]
_NAMED = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # a function; operators are _&&_, @in, !_
_SAMPLE = {
    "apiVersion": "portico.dev/v1alpha1",
    "kind": "Component",
    "metadata": {"name": "x", "namespace": "x", "labels": {}, "annotations": {}},
    "spec": {},
    "status": {},
}


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


@functools.lru_cache(maxsize=1024)
def compile_expression(expression: str) -> Any:
    """The compiled program (cached per text); ValueError says what is wrong with it."""
    try:
        program = cel.compile(expression)
    except ValueError as e:
        raise ValueError(" ".join(str(e).split())) from None
    named = {f for f in program.references().get("functions") or () if _NAMED.fullmatch(f)}
    unknown = sorted(named - FUNCTIONS)
    if unknown:
        raise ValueError(f"unknown function {', '.join(unknown)} (not in CEL's library)")
    try:  # a name that is neither `self` nor bound by a macro fails on any entity
        program.execute({"self": _SAMPLE})
    except RuntimeError as e:
        if "Undefined variable" in str(e):
            raise ValueError(f"{_first_line(e)} (the entity is `self`)") from None
    except Exception:  # a missing field of the empty sample: fine here
        pass
    return program


def _first_line(e: Exception) -> str:
    return str(e).split(". Check")[0].strip()


class ScorecardCheck(_Config):
    name: str = Field(pattern=CHECK_NAME, max_length=63)
    level: str
    expression: str = Field(
        max_length=4096,
        description="CEL over the entity as `self` (apiVersion, kind, metadata, spec, status); "
        "true passes.",
    )
    description: str = Field(default="", max_length=1024, description="Said when it passes.")
    message: str = Field(default="", max_length=1024, description="Said when it fails.")
    kinds: tuple[Kind, ...] = ("component",)
    types: tuple[str, ...] = ()
    lifecycles: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _compiles(self) -> "ScorecardCheck":
        try:
            compile_expression(self.expression)
        except ValueError as e:
            raise ValueError(f"check {self.name}: expression: {e}") from None
        return self


class ScorecardConfig(_Config):
    enabled: bool = True
    levels: tuple[str, ...] = Field(default=("bronze", "silver", "gold"), min_length=1)
    checks: tuple[ScorecardCheck, ...] | None = Field(
        default=None, description="Absent: Portico's default checks."
    )

    @model_validator(mode="after")
    def _consistent(self) -> "ScorecardConfig":
        if len(set(self.levels)) != len(self.levels):
            raise ValueError("levels: a level is named twice")
        for level in self.levels:
            if not re.fullmatch(CHECK_NAME, level) or level == NO_LEVEL:
                raise ValueError(
                    f"levels: {level!r} must be lower case letters, digits and '-', "
                    f"and not {NO_LEVEL!r}"
                )
        if self.checks is None and self.enabled:
            missing = sorted({"bronze", "silver", "gold"} - set(self.levels))
            if missing:
                raise ValueError(
                    f"levels: the default checks use bronze, silver and gold ({', '.join(missing)} "
                    "missing): keep them, or give checks of your own for these levels"
                )
        seen: set[str] = set()
        for check in self.checks or ():
            if check.name in seen:
                raise ValueError(f"check {check.name}: named twice")
            seen.add(check.name)
            if check.level not in self.levels:
                raise ValueError(
                    f"check {check.name}: level {check.level!r} is not one of levels "
                    f"({', '.join(self.levels)})"
                )
        return self
