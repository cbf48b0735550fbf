"""The open-data API's documentation page, drawn on the server from the OpenAPI document that
``/api/v1/schema/`` serves (drf-spectacular's generator, with the same settings).

``endpoints(document)`` reads the document into plain rows: each operation's method and path,
its words, its parameters and the fields of its answer, ``$ref`` components resolved and
nested objects and lists spelt out as ``policy.name`` and ``results[].zone``. The schema's own
descriptions are kept as it gives them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from drf_spectacular.settings import spectacular_settings

HTTP_METHODS = ("get", "head", "options", "post", "put", "patch", "delete")
# Nested objects are spelt out this deep at most (a schema that refers to itself stops there).
MAX_DEPTH = 4


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    nullable: bool
    description: str


@dataclass
class Endpoint:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    parameters: list[Parameter] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)

    @property
    def example_path(self) -> str:
        """The path with its path parameters as capitals to replace (``/cycles/YEAR/``)."""
        return re.sub(r"\{(\w+)\}", lambda match: match.group(1).upper(), self.path)


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, from the generator ``/api/v1/schema/`` uses."""
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS(
        urlconf=spectacular_settings.SERVE_URLCONF
    )
    return generator.get_schema(request=None, public=spectacular_settings.SERVE_PUBLIC)


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$ref`` followed (``#/components/...`` only)."""
    seen = set()
    while "$ref" in schema and schema["$ref"] not in seen:
        seen.add(schema["$ref"])
        target: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _alternatives(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    choices = schema.get("oneOf") or schema.get("anyOf") or schema.get("allOf")
    if not choices:
        return [schema]
    return [_resolve(document, choice) for choice in choices]


def _is_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or schema.get("enum") == [None]


def _is_blank(schema: dict[str, Any]) -> bool:
    """drf-spectacular's ``BlankEnum``: an empty string allowed beside an enumeration."""
    return schema.get("enum") == [""]


def type_of(document: dict[str, Any], schema: dict[str, Any]) -> str:
    """A schema's type in a few words: ``integer``, ``string (date)``, ``string: a | b``,
    ``array of Indicator``."""
    if "$ref" in schema and schema["$ref"].startswith("#/components/schemas/"):
        name = schema["$ref"].rsplit("/", 1)[1]
        target = _resolve(document, schema)
        if target.get("type", "object") == "object" and "enum" not in target:
            return name
        schema = target
    schema = _resolve(document, schema)
    alternatives = _alternatives(document, schema)
    if alternatives[0] is not schema:
        choices = [type_of(document, choice) for choice in alternatives if not _is_null(choice)]
        return " | ".join(choices) or "null"
    if _is_blank(schema):
        return '""'
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = " | ".join(str(k) for k in kind if k != "null")
    if kind == "array":
        return f"array of {type_of(document, schema.get('items', {}))}"
    text = f"{kind} ({schema['format']})" if "format" in schema else str(kind)
    values = [value for value in schema.get("enum", []) if value not in (None, "")]
    if values:
        text = f"{text}: {' | '.join(str(value) for value in values)}"
    return text


def _nullable(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = _resolve(document, schema)
    if schema.get("nullable") or _is_null(schema):
        return True
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:
        return True
    alternatives = _alternatives(document, schema)
    return alternatives[0] is not schema and any(_is_null(choice) for choice in alternatives)


def _object_of(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    """The object a field holds (itself, or each item of a list), to spell out its fields."""
    schema = _resolve(document, schema)
    if schema.get("type") == "array":
        schema = _resolve(document, schema.get("items", {}))
    objects = [
        choice
        for choice in _alternatives(document, schema)
        if choice.get("properties") and not _is_null(choice)
    ]
    return objects[0] if len(objects) == 1 else None


def _description(prop: dict[str, Any], resolved: dict[str, Any]) -> str:
    """A field's own description, else its component's (not an enumeration's list of values,
    which the type shows, nor an object's), else its title."""
    if prop.get("description"):
        return str(prop["description"])
    if resolved.get("description") and "enum" not in resolved and "properties" not in resolved:
        return str(resolved["description"])
    return str(prop.get("title") or "")


def fields_of(
    document: dict[str, Any], schema: dict[str, Any], prefix: str = "", depth: int = 0
) -> list[Field]:
    """Every field of an answer, nested ones under their parent's name."""
    schema = _resolve(document, schema)
    rows: list[Field] = []
    for name, prop in schema.get("properties", {}).items():
        resolved = _resolve(document, prop)
        rows.append(
            Field(
                name=f"{prefix}{name}",
                type=type_of(document, prop),
                nullable=_nullable(document, prop),
                description=_description(prop, resolved),
            )
        )
        inner = _object_of(document, prop)
        if inner is not None and depth < MAX_DEPTH:
            marker = "[]" if resolved.get("type") == "array" else ""
            rows.extend(fields_of(document, inner, f"{prefix}{name}{marker}.", depth + 1))
    return rows


def _answer_schema(operation: dict[str, Any]) -> dict[str, Any]:
    responses = operation.get("responses", {})
    for status in sorted(responses):
        if status.startswith("2"):
            content = responses[status].get("content", {})
            for media in content.values():
                return media.get("schema", {})
    return {}


def endpoints(document: dict[str, Any]) -> list[Endpoint]:
    """Every operation of the document, in the document's order."""
    found = []
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            parameters = []
            for parameter in [*shared, *operation.get("parameters", [])]:
                parameter = _resolve(document, parameter)
                parameters.append(
                    Parameter(
                        name=parameter["name"],
                        location=parameter["in"],
                        type=type_of(document, parameter.get("schema", {})),
                        required=bool(parameter.get("required")),
                        description=str(parameter.get("description", "")),
                    )
                )
            anchor = operation.get("operationId") or f"{method}{path}"
            found.append(
                Endpoint(
                    method=method.upper(),
                    path=path,
                    anchor=re.sub(r"[^A-Za-z0-9_-]+", "-", anchor).strip("-"),
                    summary=str(operation.get("summary", "")),
                    description=str(operation.get("description", "")),
                    parameters=parameters,
                    fields=fields_of(document, _answer_schema(operation)),
                )
            )
    return found


def api_docs(request: HttpRequest) -> HttpResponse:
    """The documentation page: how to read the API, then every endpoint."""
    document = openapi_document()
    schema_url = reverse("api:schema")
    return render(
        request,
        "api/docs.html",
        {
            "info": document.get("info", {}),
            "endpoints": endpoints(document),
            "public": settings.PUBLIC_RANKINGS,
            "rate": settings.API_RATE,
            "max_page_size": _max_page_size(),
            "cors_origins": settings.CORS_ALLOWED_ORIGINS,
            "base_url": request.build_absolute_uri("/").rstrip("/"),
            "schema_url": schema_url,
            "schema_json_url": f"{schema_url}?format=json",
        },
    )


def _max_page_size() -> int:
    from zonetracker.api import ApiPagination

    return ApiPagination.max_page_size
