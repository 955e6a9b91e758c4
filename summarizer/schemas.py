"""The schema registry: what ``--schema`` accepts, turned into a pydantic model.

- a name: the bundled files in ``schemas/`` and the user's own folders (``schema_dirs`` in
  the config, and ``<config dir>/schemas``);
- a JSON Schema file (``path/to/schema.json``);
- an import path to a pydantic model (``package.module:Class``);
- a short field list in the spirit of the ``llm`` CLI:
  ``'headline, summary: two sentences, people list[str], score int, quote!'``.

A JSON Schema becomes a pydantic model once per process. Two extension keywords carry
the checks JSON Schema cannot say: ``"x-grounded": true`` (the string must occur
verbatim in the article), ``"x-grounded": "mention"`` (it must occur, ignoring case), and
``"x-max-sentences": N``. In the field list, ``name!`` marks a verbatim field and
``name~`` one that must be mentioned.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, create_model, model_validator
from pydantic.fields import FieldInfo

from . import quality
from .errors import ConfigError
from .grounding import check_mention, check_verbatim, max_sentences
from .resources import data_dir

_SCALARS: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool}
_KNOWN_KEYWORDS = {
    "type",
    "properties",
    "required",
    "items",
    "description",
    "title",
    "enum",
    "default",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "$ref",
    "$defs",
    "definitions",
    "anyOf",
    "additionalProperties",
    "$schema",
    "$id",
    "examples",
    "format",
    "const",
    "x-grounded",
    "x-max-sentences",
}


@dataclass(frozen=True)
class SchemaSpec:
    """A schema ready to use: its name, pydantic model, and a fingerprint for cache keys."""

    name: str
    model: type[BaseModel]
    json_schema: dict[str, Any] = field(repr=False, hash=False, compare=False)

    @property
    def fingerprint(self) -> str:
        return _fingerprint(self.model)


UNBOUNDED_STRING = 300  # characters assumed for a string with no maxLength
UNBOUNDED_ITEMS = 10  # items assumed for a list with no maxItems
_CHARS_PER_ANSWER_TOKEN = 3.0  # errs high: JSON escapes and non-Latin text take more tokens per character


def answer_tokens(schema: dict[str, Any]) -> int:
    """The most tokens a schema-valid answer can take, from its ``maxLength``/``maxItems`` (a default for
    each one missing): the default ``max_tokens``, so an answer cannot run on until the timeout."""
    root = schema

    def size(node: dict[str, Any], seen: frozenset[str]) -> float:
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen:  # a recursive schema: count one level
                return 8
            target = resolve_ref(root, ref)
            return size(target, seen | {ref}) if target is not None else UNBOUNDED_STRING / 3
        for choice in ("anyOf", "oneOf"):
            if choice in node:
                return max(size(option, seen) for option in node[choice])
        kind = node.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if "object" in kinds or "properties" in node:
            return 2 + sum(
                3 + len(name) / _CHARS_PER_ANSWER_TOKEN + size(child, seen)
                for name, child in node.get("properties", {}).items()
            )
        if "array" in kinds:
            items = float(node.get("maxItems", UNBOUNDED_ITEMS))
            return 2 + items * (1 + size(node.get("items", {}), seen))
        if "string" in kinds:
            if "enum" in node:
                return 2 + max(len(str(v)) for v in node["enum"]) / _CHARS_PER_ANSWER_TOKEN
            return 2 + float(node.get("maxLength", UNBOUNDED_STRING)) / _CHARS_PER_ANSWER_TOKEN
        return 8  # numbers, booleans, null

    return int(size(schema, frozenset()) * 1.1) + 32


def field_groups(schema: dict[str, Any], budget: int) -> list[dict[str, Any]]:
    """``schema`` cut into sub-schemas of consecutive top-level fields whose longest answers each fit
    ``budget`` tokens (a field larger than the budget on its own is a group alone): for a model whose answer
    budget the whole record cannot fit, each group is asked as its own bounded request and the tool merges
    them. One group (the schema itself) when it fits."""
    if answer_tokens(schema) <= budget:
        return [schema]
    shared = {key: value for key, value in schema.items() if key not in ("properties", "required", "title")}
    required = set(schema.get("required", []))
    groups: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for name, node in schema.get("properties", {}).items():
        trial = {**current, name: node}
        if current and answer_tokens({**shared, "properties": trial}) > budget:
            groups.append(current)
            trial = {name: node}
        current = trial
    if current:
        groups.append(current)
    return [
        {
            **shared,
            "title": f"{schema.get('title', 'Summary')}Part{n}",
            "properties": properties,
            "required": [name for name in properties if name in required],
        }
        for n, properties in enumerate(groups, 1)
    ]


def along_schema(
    value: Any,
    schema: dict[str, Any],
    leaf: Callable[[Any, dict[str, Any]], Any],
    *,
    items: Callable[[list[Any], dict[str, Any]], list[Any]] | None = None,
    root: dict[str, Any] | None = None,
) -> Any:
    """``value`` rebuilt along ``schema`` (``$ref``s followed): ``leaf(scalar, its schema node)`` for every
    scalar, ``items(list, its node)`` (if given) for every list before its items are visited."""
    root = root or schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        schema = resolve_ref(root, ref) or {}
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        return {k: along_schema(v, properties.get(k, {}), leaf, items=items, root=root) for k, v in value.items()}
    if isinstance(value, list):
        kept = items(value, schema) if items is not None else value
        return [along_schema(item, schema.get("items", {}), leaf, items=items, root=root) for item in kept]
    return leaf(value, schema)


def clip_to_limits(value: Any, schema: dict[str, Any]) -> Any:
    """``value`` with every string cut (at a word) to its ``maxLength`` and every list to its ``maxItems``.

    For answers written by code (the extractive engine), whose sentences know no schema limits. A cut
    verbatim quote is still verbatim: a start of the original."""

    def first_items(values: list[Any], node: dict[str, Any]) -> list[Any]:
        limit = node.get("maxItems")
        return values[:limit] if isinstance(limit, int) else values

    def clipped(text: Any, node: dict[str, Any]) -> Any:
        limit = node.get("maxLength")
        if isinstance(text, str) and isinstance(limit, int) and len(text) > limit:
            cut = text[:limit]
            space = cut.rfind(" ")
            return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:")
        return text

    return along_schema(value, schema, clipped, items=first_items)


def resolve_ref(root: dict[str, Any], ref: str) -> dict[str, Any] | None:
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


@cache
def _fingerprint(model: type[BaseModel]) -> str:
    schema = json.dumps(model.model_json_schema(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(schema.encode()).hexdigest()


def user_dirs(extra: tuple[Path, ...] | list[Path] = ()) -> tuple[Path, ...]:
    """The user's schema folders: the configured ones, then ``<config dir>/schemas`` if it exists."""
    from .resources import default_config_path

    default = default_config_path().parent / "schemas"
    return (*extra, default) if default.is_dir() else tuple(extra)


def available(dirs: tuple[Path, ...] | list[Path] = ()) -> dict[str, Path]:
    """Schema names and their files: bundled first, then each of ``dirs`` (a later folder cannot shadow
    a bundled name)."""
    found = {p.stem: p for p in sorted(data_dir("schemas").glob("*.json"))}
    for folder in dirs:
        for path in sorted(Path(folder).expanduser().glob("*.json")):
            found.setdefault(path.stem, path)
    return found


_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def resolve(schema: str | type[BaseModel] | SchemaSpec | None, dirs: tuple[Path, ...] | list[Path] = ()) -> SchemaSpec:
    """Turn a name, a JSON Schema path, ``module:Class``, a field list or a pydantic model into a SchemaSpec."""
    if schema is None:
        schema = "news"
    if isinstance(schema, SchemaSpec):
        return schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return _from_model(schema)
    if isinstance(schema, str):
        known = available(dirs)
        if schema in known:
            return _load_file(known[schema])
        if schema.endswith(".json"):
            path = Path(schema).expanduser()
            if not path.is_file():
                raise ConfigError(f"schema file not found: {schema}")
            return _load_file(path.resolve())
        if _IMPORT_PATH.match(schema):
            return _from_model(_import_model(schema))
        if re.search(r"[,:\n ]", schema.strip()):
            return _from_fields(schema)
        raise ConfigError(
            f"unknown schema {schema!r}",
            hint=f"available: {', '.join(known)}; or a .json file, module:Class, or fields like 'title, score int'",
        )
    raise ConfigError(f"unsupported schema value: {schema!r}")


def _import_model(path: str) -> type[BaseModel]:

    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import {module_name} for schema {path}: {exc}") from None
    model = getattr(module, attribute, None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise ConfigError(f"{path} is not a pydantic model class")
    return model


# Field lists get length limits, like the bundled schemas: a model decoding under a grammar (llama.cpp)
# otherwise fills a string until the token limit cuts it.
FIELD_MAX_LENGTH = 600
FIELD_MAX_ITEMS = 12
_FIELD_TYPES: dict[str, dict[str, Any]] = {
    "str": {"type": "string", "maxLength": FIELD_MAX_LENGTH},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
}
_FIELD = re.compile(r"^(?P<name>[A-Za-z_]\w*)(?P<mark>[!~]?)(?:\s+(?P<type>[a-z]+(?:\[[a-z]+\])?))?\s*$")


def parse_fields(text: str) -> dict[str, Any]:
    """The field-list language as a JSON Schema: ``name [type][: description]``, separated by commas (or
    by newlines when there are any, so descriptions may hold commas). Types: str (default), int, float,
    bool, list[str], list[int], ... ``name!``: verbatim from the article; ``name~``: mentioned in it."""
    items = [item.strip() for item in (text.splitlines() if "\n" in text.strip() else text.split(","))]
    properties: dict[str, Any] = {}
    for item in filter(None, items):
        head, _, description = item.partition(":")
        match = _FIELD.match(head.strip())
        if not match:
            raise ConfigError(
                f"cannot read schema field {item!r}: write name [type][: description], e.g. 'score int: 1-10'"
            )
        type_name = match.group("type") or "str"
        inner = type_name[5:-1] if type_name.startswith("list[") else None
        base = _FIELD_TYPES.get(inner or type_name)
        if base is None or (type_name.startswith("list") and inner is None):
            raise ConfigError(
                f"unknown type {type_name!r} in schema field {item!r}; use str, int, float, bool or list[...] of those"
            )
        node: dict[str, Any] = (
            {"type": "array", "maxItems": FIELD_MAX_ITEMS, "items": dict(base)} if inner else dict(base)
        )
        mark = {"!": True, "~": "mention"}.get(match.group("mark"))
        if mark is not None:
            if (inner or type_name) != "str":
                raise ConfigError(f"only text fields can be grounded: {item!r}")
            (node["items"] if inner else node)["x-grounded"] = mark
        if description.strip():
            node["description"] = description.strip()
        name = match.group("name")
        if name in properties:
            raise ConfigError(f"schema field {name!r} is given twice")
        properties[name] = node
    if not properties:
        raise ConfigError("the schema field list is empty")
    return {"title": "Custom", "type": "object", "properties": properties, "required": list(properties)}


@cache
def _from_fields(text: str) -> SchemaSpec:
    document = parse_fields(text)
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:8]
    return SchemaSpec(name=f"custom-{digest}", model=model_from_json_schema(document), json_schema=document)


@cache
def _from_model(model: type[BaseModel]) -> SchemaSpec:
    return SchemaSpec(name=model.__name__, model=model, json_schema=model.model_json_schema())


SCHEMA_MAX_BYTES = 1_000_000  # a schema file's size budget (its depth budget is jsonguard.MAX_DEPTH)


@cache
def _load_file(path: Path) -> SchemaSpec:
    from .errors import InputError
    from .jsonguard import check

    try:
        text = path.read_text(encoding="utf-8")
        check(text, what=f"schema {path}", max_bytes=SCHEMA_MAX_BYTES)  # before the parser: it recurses per level
        document = json.loads(text)
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read schema {path}: {exc}") from None
    model = model_from_json_schema(document, default_name=path.stem.title())
    return SchemaSpec(name=path.stem, model=model, json_schema=document)


def model_from_json_schema(document: dict[str, Any], default_name: str = "Summary") -> type[BaseModel]:
    """Build a pydantic model from a JSON Schema object; ConfigError names what is unsupported."""
    if not isinstance(document, dict) or document.get("type", "object") != "object":
        raise ConfigError('a schema must be a JSON object with "type": "object"')
    return _Builder(document).model(document, document.get("title") or default_name, "#")


class _Builder:
    def __init__(self, root: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = {**root.get("definitions", {}), **root.get("$defs", {})}
        self.built: dict[str, type[BaseModel]] = {}
        self.building: set[str] = set()  # $defs being built now: meeting one again is a cycle

    def model(self, node: dict[str, Any], name: str, where: str) -> type[BaseModel]:
        self._check_keywords(node, where)
        required = set(node.get("required", []))
        fields: dict[str, Any] = {}
        for prop, sub in node.get("properties", {}).items():
            if not prop.isidentifier() or prop.startswith("_"):
                raise ConfigError(f"unsupported property name {prop!r} at {where}")
            annotation = self.annotation(sub, f"{name}{prop.title().replace('_', '')}", f"{where}/properties/{prop}")
            if prop not in required:
                annotation = Optional[annotation]  # noqa: UP045 - runtime construction
            fields[prop] = (annotation, self.field_info(sub, required=prop in required))
        config = ConfigDict(title=node.get("title", name))
        validators: dict[str, Any] = {}
        if {"headline", "summary"} <= set(fields):
            validators["_not_degenerate"] = model_validator(mode="after")(_record_check)
        model = create_model(
            _class_name(name), __config__=config, __doc__=node.get("description"), __validators__=validators, **fields
        )
        return model  # type: ignore[no-any-return]

    def annotation(self, node: dict[str, Any], name: str, where: str) -> Any:
        if not isinstance(node, dict):
            raise ConfigError(f"invalid schema node at {where}")
        if "$ref" in node:
            return self.ref(node["$ref"], where)
        self._check_keywords(node, where)
        if "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            if len(options) != 1:
                raise ConfigError(f"unsupported anyOf at {where}: only 'X or null' is supported")
            inner = self.annotation(options[0], name, where)
            return Optional[inner] if len(options) < len(node["anyOf"]) else inner  # noqa: UP045
        if "enum" in node or "const" in node:
            values = node.get("enum") or [node["const"]]
            return Literal[tuple(values)]
        kind = node.get("type", "string")
        nullable = False
        if isinstance(kind, list):
            nullable = "null" in kind
            kinds = [k for k in kind if k != "null"]
            if len(kinds) != 1:
                raise ConfigError(f"unsupported type union {kind} at {where}")
            kind = kinds[0]
        result: Any
        if kind in _SCALARS:
            result = _SCALARS[kind]
            if kind == "string":
                result = self._string_checks(node, where)
        elif kind == "array":
            item = self.annotation(node.get("items", {"type": "string"}), name + "Item", f"{where}/items")
            result = Annotated[list[item], AfterValidator(quality.check_items)]  # type: ignore[valid-type]
        elif kind == "object":
            result = dict[str, Any] if "properties" not in node else self.model(node, name, where)
        else:
            raise ConfigError(f"unsupported type {kind!r} at {where}")
        return Optional[result] if nullable else result  # noqa: UP045

    def ref(self, ref: str, where: str) -> type[BaseModel]:
        prefix = next((p for p in ("#/$defs/", "#/definitions/") if ref.startswith(p)), None)
        key = ref[len(prefix) :] if prefix else ""
        if not prefix or key not in self.defs:
            raise ConfigError(f"unresolvable $ref {ref!r} at {where}")
        if key not in self.built:
            if key in self.building:  # a model cannot hold itself: the recursion would never end
                raise ConfigError(
                    f"recursive $ref {ref!r} at {where}: {ref} refers back to itself",
                    hint="a summary schema needs a finite shape: nest a copy, or cut the cycle",
                )
            self.building.add(key)
            self.built[key] = self.model(self.defs[key], key, ref)
            self.building.discard(key)
        return self.built[key]

    def field_info(self, node: dict[str, Any], *, required: bool) -> FieldInfo:
        kwargs: dict[str, Any] = {}
        if "description" in node:
            kwargs["description"] = node["description"]
        for source, target in (
            ("minItems", "min_length"),
            ("maxItems", "max_length"),
            ("minimum", "ge"),
            ("maximum", "le"),
            ("exclusiveMinimum", "gt"),
            ("exclusiveMaximum", "lt"),
        ):
            if source in node:
                kwargs[target] = node[source]
        default = node.get("default", ... if required else None)
        return Field(default, **kwargs)  # type: ignore[no-any-return]

    def _string_checks(self, node: dict[str, Any], where: str) -> Any:
        constraints: list[Any] = []
        if any(k in node for k in ("minLength", "maxLength", "pattern")):
            constraints.append(
                Field(min_length=node.get("minLength"), max_length=node.get("maxLength"), pattern=node.get("pattern"))
            )
        grounded = node.get("x-grounded")
        if grounded is not True and "pattern" not in node and "format" not in node:
            constraints.append(AfterValidator(quality.check_text))  # text the model composes
        if grounded is True:
            constraints.append(AfterValidator(check_verbatim))
        elif grounded == "mention":
            constraints.append(AfterValidator(check_mention))
        elif grounded not in (None, False):
            raise ConfigError(f'x-grounded must be true, false or "mention" at {where}')
        if "x-max-sentences" in node:
            constraints.append(max_sentences(int(node["x-max-sentences"])))
        return Annotated[tuple([str, *constraints])] if constraints else str

    @staticmethod
    def _check_keywords(node: dict[str, Any], where: str) -> None:
        unknown = set(node) - _KNOWN_KEYWORDS
        if unknown:
            raise ConfigError(f"unsupported JSON Schema keyword(s) {sorted(unknown)} at {where}")
        if node.get("additionalProperties") not in (None, False, True):
            raise ConfigError(f"unsupported additionalProperties schema at {where}")


def _record_check(record: BaseModel, info: ValidationInfo) -> BaseModel:
    return quality.check_record(record, info)  # type: ignore[no-any-return]


def _class_name(name: str) -> str:
    if name.isidentifier():
        return name[0].upper() + name[1:]
    cleaned = "".join(ch for ch in name.title() if ch.isalnum())
    return cleaned if cleaned and cleaned[0].isalpha() else f"Schema{cleaned}"
