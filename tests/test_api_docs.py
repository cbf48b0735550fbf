"""The API documentation page's reading of an OpenAPI document, without HTTP."""

from __future__ import annotations

from zonetracker.api_docs import Field, Parameter, endpoints, fields_of, type_of

DOCUMENT = {
    "paths": {
        "/things/{slug}/": {
            "parameters": [
                {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "get": {
                "operationId": "things_retrieve",
                "summary": "One thing",
                "description": "A thing by its slug.",
                "parameters": [{"$ref": "#/components/parameters/Colour"}],
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                        }
                    }
                },
            },
        }
    },
    "components": {
        "parameters": {
            "Colour": {
                "name": "colour",
                "in": "query",
                "description": "Red or blue.",
                "schema": {"$ref": "#/components/schemas/ColourEnum"},
            }
        },
        "schemas": {
            "ColourEnum": {"type": "string", "enum": ["red", "blue"], "description": "* list"},
            "NullEnum": {"enum": [None]},
            "BlankEnum": {"enum": [""]},
            "Thing": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "Its name."},
                    "made_on": {"type": "string", "format": "date", "nullable": True},
                    "colour": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/ColourEnum"},
                            {"$ref": "#/components/schemas/NullEnum"},
                        ]
                    },
                    "shade": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/ColourEnum"},
                            {"$ref": "#/components/schemas/BlankEnum"},
                        ]
                    },
                    "parts": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}},
                    "owner": {"$ref": "#/components/schemas/Owner"},
                },
            },
            "Owner": {"type": "object", "properties": {"code": {"type": "integer"}}},
        },
    },
}


def test_an_operation_reads_as_its_method_path_words_and_parameters():
    (endpoint,) = endpoints(DOCUMENT)
    assert (endpoint.method, endpoint.path, endpoint.anchor) == (
        "GET",
        "/things/{slug}/",
        "things_retrieve",
    )
    assert (endpoint.summary, endpoint.description) == ("One thing", "A thing by its slug.")
    assert endpoint.example_path == "/things/SLUG/"
    assert endpoint.parameters == [
        Parameter("slug", "path", "string", True, ""),
        Parameter("colour", "query", "string: red | blue", False, "Red or blue."),
    ]


def test_the_fields_resolve_components_nulls_lists_and_nested_objects():
    fields = {row.name: row for row in endpoints(DOCUMENT)[0].fields}
    assert fields["name"] == Field("name", "string", False, "Its name.")
    assert fields["made_on"] == Field("made_on", "string (date)", True, "")
    # An enumeration or null: its values in the type, not its component's list of them.
    assert fields["colour"] == Field("colour", "string: red | blue", True, "")
    # An enumeration or an empty string: not null.
    assert fields["shade"] == Field("shade", 'string: red | blue | ""', False, "")
    assert fields["parts"].type == "array of Thing"
    assert fields["owner"].type == "Owner"
    assert fields["owner.code"] == Field("owner.code", "integer", False, "")
    assert "parts[].name" in fields and "parts[].owner.code" in fields


def test_a_schema_that_contains_itself_stops_at_a_depth():
    names = [row.name for row in fields_of(DOCUMENT, {"$ref": "#/components/schemas/Thing"})]
    assert max(name.count("parts[]") for name in names) == 4


def test_types_in_a_few_words():
    assert type_of(DOCUMENT, {"type": "integer"}) == "integer"
    assert type_of(DOCUMENT, {"type": ["string", "null"]}) == "string"
    assert type_of(DOCUMENT, {"type": "array", "items": {"type": "number"}}) == "array of number"
