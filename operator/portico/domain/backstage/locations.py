"""Reading a Backstage catalog as Backstage does: `kind: Location` entities fan out to more
descriptor files, and `$text`/`$json`/`$yaml` placeholders pull in file contents, both
relative to the file that names them.

Pure: every read goes through an injected `Reader` (clients/descriptors.py reads files and
URLs, and decides what may be read at all). What we follow, from Backstage's catalog
(LocationEntityProcessor, PlaceholderProcessor, FileReaderProcessor):

- a Location's `spec.target` and `spec.targets` are read in that order; a glob that matches
  nothing, or a missing file, is a problem unless `spec.presence` is `optional`; the
  Location itself is not output. A target's form decides how it is read (a URL, or a path
  relative to the file that holds the Location), not `spec.type`, whose default in Backstage
  is the type its file was registered with: so a local checkout of a repository registered
  by URL imports as it is. An explicit `type: file` with a URL target is a problem, as is a
  type other than `url`/`file` (e.g. `github-discovery`: it needs Backstage's providers).
- a placeholder is a mapping with exactly one key, `$text`, `$json` or `$yaml`, whose value
  is a string. A mapping with several keys, one of them `$`-prefixed, and any other `$` key
  (JSON Schema's `$ref` in a Template's parameters) are left alone, as Backstage leaves them.
  Substituted content is not searched for placeholders again (nor is it in Backstage), so a
  file cannot pull in files its includer did not name.

Descriptors are hostile until checked: a document or placeholder may not weigh more than
`MAX_WEIGHT` once YAML aliases expand (the billion-laughs bomb; a string weighs one per 100
characters), nor an import more than `MAX_TOTAL_WEIGHT` (a placeholder named many times),
and values nest at most `MAX_NESTING` deep. YAML is read with the
YAML 1.2 core schema that Backstage's parser uses: `on`, `yes`, `no` and dates stay strings
(PyYAML's 1.1 defaults would turn an annotation `"on"` into a boolean and a date into a
datetime), and `012` is twelve.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

from portico.domain.backstage.metadata import entity_label
from portico.domain.backstage.source import Descriptor, DescriptorError, Problem

MAX_DEPTH = 32  # Locations within Locations
MAX_DOCUMENTS = 1000  # per file
MAX_WEIGHT = 200_000  # one document or placeholder, aliases expanded: values + chars/100
MAX_TOTAL_WEIGHT = 2_000_000  # everything an import reads
MAX_NESTING = 64  # mappings and lists within each other
LOCATION_TYPES = frozenset({"url", "file"})
PLACEHOLDERS = frozenset({"$text", "$json", "$yaml"})


class DescriptorNotFound(DescriptorError):
    """The file or URL does not exist: no problem for an optional Location target."""


class Reader(Protocol):
    def resolve(self, base: str, target: str) -> str:
        """`target` relative to the file or URL `base`; DescriptorError if it may not be read."""
        ...

    def read(self, location: str) -> str:
        """The text of a file or URL; DescriptorNotFound if missing, DescriptorError else."""
        ...

    def expand(self, location: str) -> list[str]:
        """The files a location names: glob matches, a directory's catalog-info.yaml, a URL
        itself. Missing files may be returned (read says so); DescriptorError if refused."""
        ...


@dataclass
class Collected:
    descriptors: list[Descriptor] = field(default_factory=list)  # Locations left out
    locations: list[str] = field(default_factory=list)  # every file or URL read, in order
    problems: list[Problem] = field(default_factory=list)


def collect(inputs: list[str], reader: Reader) -> Collected:
    """Every entity the inputs lead to: inputs in order, then document order, depth first
    through Locations. Each file is read once, so cycles end."""
    walk = _Walk(reader)
    for location in inputs:
        walk.visit(location, _Origin(location, "input", ""), depth=0, optional=False)
    return walk.out


@dataclass(frozen=True)
class _Origin:
    """Where a location was named: the problem's file, entity and field if it fails."""

    source: str
    entity: str
    field: str


class _Walk:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.out = Collected()
        self.seen: set[str] = set()  # descriptor files, read once
        self.listed: set[str] = set()  # every file read, descriptor or placeholder
        self.texts: dict[str, str] = {}  # placeholder files, read once
        self.weight = 0  # of what was read, aliases and placeholders expanded

    def problem(self, origin: _Origin, message: str) -> None:
        self.out.problems.append(Problem(origin.source, origin.entity, origin.field, message))

    def visit(self, location: str, origin: _Origin, *, depth: int, optional: bool) -> None:
        try:
            matches = self.reader.expand(location)
        except DescriptorError as e:
            self.problem(origin, str(e))
            return
        if not matches and not optional:
            self.problem(origin, f"{location}: no file matches")
        for match in matches:
            if match in self.seen:
                continue
            self.seen.add(match)
            try:
                text = self.reader.read(match)
            except DescriptorNotFound as e:
                if not optional:
                    self.problem(origin, str(e))
                continue
            except DescriptorError as e:
                self.problem(origin, str(e))
                continue
            self.note(match)
            self.file(match, text, depth)

    def spend(self, weight: int, origin: _Origin) -> bool:
        """False, with a problem, once the import as a whole weighs too much."""
        self.weight += weight
        if self.weight > MAX_TOTAL_WEIGHT:
            self.problem(origin, f"not read: the import weighs more than {MAX_TOTAL_WEIGHT}")
        return self.weight <= MAX_TOTAL_WEIGHT

    def file(self, source: str, text: str, depth: int) -> None:
        for index, document, weight in _documents(text, source, self.out.problems):
            label = entity_label(document, index)
            if not self.spend(weight, _Origin(source, label, "")):
                return
            entity = _Substitution(self, source, label).value(document, "")
            if entity.get("kind") == "Location":
                self.location(entity, source, label, depth)
            else:
                self.out.descriptors.append(Descriptor(entity, source))

    def location(self, entity: dict[str, Any], source: str, label: str, depth: int) -> None:
        spec = entity.get("spec")
        spec = spec if isinstance(spec, dict) else {}
        kind = spec.get("type", "url")  # the target's form decides; see the module's doc
        presence = spec.get("presence", "required")
        listed = spec.get("targets", [])
        wrong = None
        if kind not in LOCATION_TYPES:
            wrong = "spec.type", f"{kind!r} is not supported: Portico reads url and file Locations"
        elif presence not in ("required", "optional"):
            wrong = "spec.presence", "must be 'required' or 'optional'"
        elif not isinstance(listed, list):
            wrong = "spec.targets", "must be a list of paths or URLs"
        if wrong:
            self.problem(_Origin(source, label, wrong[0]), wrong[1])
            return
        targets = [(f"spec.targets[{i}]", t) for i, t in enumerate(listed)]
        if "target" in spec:
            targets.insert(0, ("spec.target", spec["target"]))
        for path, target in targets:
            origin = _Origin(source, label, path)
            if not isinstance(target, str) or not target:
                self.problem(origin, "must be a path or URL (a string)")
            elif kind == "file" and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", target):
                self.problem(origin, f"{target}: a file Location's target is a path, not a URL")
            elif depth >= MAX_DEPTH:
                self.problem(origin, f"Locations nest more than {MAX_DEPTH} deep: not followed")
            else:
                try:
                    resolved = self.reader.resolve(source, target)
                except DescriptorError as e:
                    self.problem(origin, str(e))
                    continue
                self.visit(resolved, origin, depth=depth + 1, optional=presence == "optional")

    def placeholder_text(self, source: str, target: str) -> str:
        """Raises DescriptorError."""
        location = self.reader.resolve(source, target)
        if location not in self.texts:
            self.texts[location] = self.reader.read(location)
            self.note(location)
        return self.texts[location]

    def note(self, location: str) -> None:
        if location not in self.listed:
            self.listed.add(location)
            self.out.locations.append(location)


class _Substitution:
    """One entity's placeholders, resolved; the result shares nothing with the parsed YAML
    (aliases are copied), so a later change to one value cannot show up in another."""

    def __init__(self, walk: _Walk, source: str, label: str) -> None:
        self.walk, self.source, self.label = walk, source, label

    def value(self, value: Any, path: str) -> Any:
        if isinstance(value, list):
            return [self.value(item, f"{path}[{i}]") for i, item in enumerate(value)]
        if not isinstance(value, dict):
            return value
        keys = [_key(k) for k in value]
        if not any(k.startswith("$") for k in keys):
            return {
                k: self.value(v, f"{path}.{k}" if path else k)
                for k, v in zip(keys, value.values(), strict=True)
            }
        if len(keys) != 1 or keys[0] not in PLACEHOLDERS:
            return _copy(value)  # several keys, or `$ref` and friends: Backstage's rule
        kind, (target,) = keys[0], value.values()
        where = _Origin(self.source, self.label, path)
        if not isinstance(target, str):
            self.walk.problem(where, f"{kind} needs a path or URL (a string)")
            return _copy(value)
        try:
            text = self.walk.placeholder_text(self.source, target)
        except DescriptorError as e:
            self.walk.problem(where, f"{kind}: {e}")
            return _copy(value)
        try:
            data, weight = _parse_placeholder(kind, text)
        except ValueError as e:
            self.walk.problem(where, f"{kind} {target}: {e}")
            return _copy(value)
        return data if self.walk.spend(weight, where) else _copy(value)


def _parse_placeholder(kind: str, text: str) -> tuple[Any, int]:
    """The value and its weight; ValueError with a message a person can act on."""
    if kind == "$text":
        return text, _measure(text)
    if kind == "$json":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as e:
            raise ValueError(f"not valid JSON: {e}") from e
    else:
        found: list[Any] = []
        try:
            for document in yaml.load_all(text, Loader=_Loader):  # _Loader is a SafeLoader
                found.append(document)
                if len(found) > 1:
                    raise ValueError("expected exactly one YAML document, found more")
        except yaml.YAMLError as e:
            raise ValueError(f"not valid YAML: {_yaml_message(e)}") from e
        except RecursionError as e:
            raise ValueError(f"nested more than {MAX_NESTING} deep") from e
        if not found:
            raise ValueError("expected exactly one YAML document, found none")
        data = found[0]
    weight = _measure(data)  # before the copy: the copy expands aliases
    return _copy(data), weight


def _documents(
    text: str, source: str, problems: list[Problem]
) -> Iterator[tuple[int, dict[str, Any], int]]:
    """The file's entities with their index and weight; problems for what is not one."""
    stream = yaml.load_all(text, Loader=_Loader)  # _Loader is a SafeLoader
    for index in range(MAX_DOCUMENTS + 1):
        label = f"document {index + 1}"
        try:
            document = next(stream)
        except StopIteration:
            return
        except (yaml.YAMLError, ValueError, TypeError) as e:
            problems.append(Problem(source, label, "", f"invalid YAML: {_yaml_message(e)}"))
            return
        except RecursionError:
            problems.append(Problem(source, label, "", f"nested more than {MAX_NESTING} deep"))
            return
        if index == MAX_DOCUMENTS:
            problems.append(Problem(source, "file", "", f"more than {MAX_DOCUMENTS} documents"))
            return
        if document is None:
            continue  # an empty document, e.g. after a trailing `---`
        try:
            if not isinstance(document, dict):
                raise ValueError(f"must be a mapping (an entity), not {type(document).__name__}")
            missing = [k for k in ("apiVersion", "kind") if not _text(document.get(k))]
            if missing:
                raise ValueError(f"{' and '.join(missing)} required")
            label = entity_label(document, index)
            yield index, document, _measure(document)
        except ValueError as e:
            problems.append(Problem(source, label, "", str(e)))


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _yaml_message(error: Exception) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {error.problem}"
    return str(error)


def _measure(value: Any) -> int:
    """The weight of `value` with aliases expanded: one per value, plus one per 100 characters
    of a string. ValueError if more than MAX_WEIGHT, nested deeper than MAX_NESTING, or if it
    contains itself (`&a [*a]`)."""
    known: dict[int, tuple[int, int]] = {}  # id -> (weight, height), for shared values
    open_: set[int] = set()

    def size(node: Any, depth: int) -> tuple[int, int]:
        if not isinstance(node, dict | list):
            return 1 + (len(node) // 100 if isinstance(node, str) else 0), 0
        if id(node) in open_:
            raise ValueError("a YAML alias refers to a value that contains it")
        if id(node) not in known:
            if depth > MAX_NESTING:
                raise ValueError(f"values nest more than {MAX_NESTING} deep")
            open_.add(id(node))
            total, height = 1, 0
            for child in [*node.keys(), *node.values()] if isinstance(node, dict) else node:
                weight, below = size(child, depth + 1)
                total, height = total + weight, max(height, below + 1)
                if total > MAX_WEIGHT:
                    raise ValueError(f"weighs more than {MAX_WEIGHT} once YAML aliases expand")
            open_.discard(id(node))
            known[id(node)] = (total, height)
        total, height = known[id(node)]
        if depth + height > MAX_NESTING:
            raise ValueError(f"values nest more than {MAX_NESTING} deep")
        return total, height

    return size(value, 0)[0]


def _copy(value: Any) -> Any:
    """A fresh tree with string keys (`_measure` bounded its size)."""
    if isinstance(value, dict):
        return {_key(k): _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _key(key: object) -> str:
    """A mapping key as Backstage's JSON has it: `true`, `8080`, `null` become strings."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    return str(key)


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with the YAML 1.2 core schema's booleans, numbers and no dates."""


_BOOL, _INT, _FLOAT = (f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float"))
_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in {_BOOL, _INT, _FLOAT} and not tag.endswith(":timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    _INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    try:
        if text.startswith(("0o", "0x")):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text.replace("_", ""), 10)
    except ValueError as e:
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not an integer", node.start_mark
        ) from e


_Loader.add_constructor(_INT, _construct_int)
