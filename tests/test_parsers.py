"""The JSON parser of jwtauth's endpoints."""

from __future__ import annotations

import io

import pytest
from rest_framework.exceptions import ParseError

from jwtauth._parsers import JSONParser


def parse(body: bytes) -> object:
    return JSONParser().parse(io.BytesIO(body), "application/json", {})


def test_a_json_object_is_parsed() -> None:
    assert parse(b'{"a": [1, 2]}') == {"a": [1, 2]}


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000],
)
def test_json_nested_past_the_recursion_limit_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse(body)


@pytest.mark.parametrize("body", [b"{bad", b"NaN", b"\xff\xfe"])
def test_malformed_json_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse(body)
