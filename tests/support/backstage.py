"""Backstage's own verdict on catalog entities: hack/backstage-validate/validate.mjs, run by Node
with @backstage/catalog-model and the scaffolder's Template validator as the lock file pins them.

It applies what Backstage's catalog applies to an entity read from a location (the default
entity policies, the kind validators, the relation targets), so a test asserts that Backstage
accepts an export, not that Portico agrees with its own reading of Backstage's rules.

The install directory comes from `PORTICO_BACKSTAGE_VALIDATOR_DIR`, else from
hack/ensure-backstage-validator.sh (which `make test-tools` runs; a warm call takes ~0.1 s).
Each call is one Node process, so batch the entities.
"""

import functools
import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ENSURE = ROOT / "hack" / "ensure-backstage-validator.sh"
TIMEOUT = 120.0


@functools.cache
def validator_dir() -> Path:
    if os.environ.get("PORTICO_BACKSTAGE_VALIDATOR_DIR"):
        return Path(os.environ["PORTICO_BACKSTAGE_VALIDATOR_DIR"])
    result = subprocess.run([str(ENSURE)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"{ENSURE.relative_to(ROOT)} failed: {result.stderr.strip()}")
    return Path(result.stdout.strip().splitlines()[-1])


def _run(args: Sequence[str], stdin: str) -> list[list[str]]:
    script = validator_dir() / "validate.mjs"
    result = subprocess.run(
        ["node", str(script), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{script} exited {result.returncode}: {result.stderr.strip()}")
    return [list(r["errors"]) for r in json.loads(result.stdout)]


def validate(entities: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Backstage's errors for each entity, in order; an empty list means Backstage accepts it."""
    if not entities:
        return []
    errors = _run([], json.dumps(list(entities)))
    if len(errors) != len(entities):
        raise RuntimeError(f"validator judged {len(errors)} entities, sent {len(entities)}")
    return errors


def validate_yaml(text: str) -> list[list[str]]:
    """Errors per document of one catalog file, parsed by Backstage's YAML reader (YAML 1.2,
    no merge keys, empty documents skipped), so a quirk of PyYAML cannot hide a problem."""
    return _run(["--yaml"], text)


def _describe(entity: object) -> str:
    if isinstance(entity, Mapping):
        metadata = entity.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Mapping) else None
        return f"{entity.get('kind')} {name!r}"
    return repr(entity)[:60]


def assert_valid(entities: Sequence[Mapping[str, Any]]) -> None:
    """Fail with every rejected entity and Backstage's reason."""
    rejected = [
        f"{_describe(entity)}: {'; '.join(errors)}"
        for entity, errors in zip(entities, validate(entities), strict=True)
        if errors
    ]
    assert not rejected, "Backstage rejects:\n" + "\n".join(rejected)


def assert_valid_yaml(text: str) -> None:
    """Fail unless Backstage accepts every document of one catalog file."""
    rejected = [
        f"document {i}: {'; '.join(errors)}"
        for i, errors in enumerate(validate_yaml(text))
        if errors
    ]
    assert not rejected, "Backstage rejects:\n" + "\n".join(rejected)
