"""API definitions: each type's common mistakes are caught and explained."""

import pytest

from portico.domain.definitions import check_definition


@pytest.mark.parametrize(
    ("api_type", "text", "valid", "says"),
    [
        ("openapi", "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n", True, "openapi 3.1.0"),
        ("openapi", "swagger: '2.0'\ninfo: {title: t}\n", True, "swagger 2.0"),
        ("openapi", "info: {title: t}\n", False, "lacks top-level openapi"),
        ("openapi", "openapi: [unclosed\n", False, "not valid YAML"),
        ("openapi", "- a list\n", False, "must be a YAML or JSON object"),
        ("asyncapi", '{"asyncapi": "3.0.0", "info": {}}', True, "asyncapi 3.0.0"),
        ("asyncapi", "asyncapi: 2.6.0\n", False, "lacks top-level info"),
        ("graphql", "type Query { a: Int }", True, "graphql"),
        ("graphql", "type Query { a: Int ", False, "unbalanced"),
        ("grpc", 'syntax = "proto3"; service S { }', True, "protocol buffers"),
        ("grpc", "syntax = 'proto3';", False, "no service or message"),
        ("grpc", "   ", False, "empty"),
    ],
)
def test_definition_check(api_type: str, text: str, valid: bool, says: str) -> None:
    ok, message = check_definition(api_type, text)
    assert ok is valid
    assert says in message
