"""The optional drf-spectacular extension (``jwtauth.openapi``)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from jwtauth import openapi
from jwtauth.views import JWTAuthView

ENVELOPE = "#/components/schemas/JWTAuthErrorEnvelope"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    generator = SchemaGenerator(patterns=[path("auth/", include("jwtauth.urls"))])
    generated: dict[str, Any] = generator.get_schema(request=None, public=True)
    validate_schema(generated)
    return generated


def operations(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {url}": operation
        for url, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def ref(response: dict[str, Any]) -> str | None:
    content = response.get("content", {}).get("application/json", {})
    return content.get("schema", {}).get("$ref")  # type: ignore[no-any-return]


def test_generation_reports_no_warning_or_error() -> None:
    GENERATOR_STATS.reset()

    SchemaGenerator(patterns=[path("auth/", include("jwtauth.urls"))]).get_schema(
        request=None, public=True
    )

    assert not GENERATOR_STATS  # true when any warning or error was recorded


def test_security_schemes_bearer_and_cookie(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]

    assert schemes["jwtBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["jwtBearer"]["description"],
    }
    assert (schemes["jwtCookie"]["type"], schemes["jwtCookie"]["in"]) == ("apiKey", "cookie")
    assert schemes["jwtCookie"]["name"] == "accessToken"


def test_every_jwtauth_endpoint_is_documented(schema: dict[str, Any]) -> None:
    found = set(operations(schema))

    assert {
        "POST /auth/login/",
        "POST /auth/refresh/",
        "POST /auth/logout/",
        "POST /auth/logout-all/",
        "GET /auth/sessions/",
        "DELETE /auth/sessions/{session_id}/",
    } <= found


def test_every_operation_has_a_success_and_the_error_envelope(schema: dict[str, Any]) -> None:
    for name, operation in operations(schema).items():
        responses = operation["responses"]
        successes = [code for code in responses if code.startswith("2")]
        errors = [code for code in responses if code[0] in "45"]
        assert successes, name
        assert errors, name
        for code in errors:
            assert ref(responses[code]) == ENVELOPE, (name, code)
        for code in successes:
            assert code == "204" or responses[code]["content"], (name, code)


def test_protected_endpoints_take_bearer_or_cookie(schema: dict[str, Any]) -> None:
    either: list[dict[str, list[str]]] = [{"jwtBearer": []}, {"jwtCookie": []}]
    ops = operations(schema)

    for name in ("POST /auth/logout/", "POST /auth/logout-all/", "GET /auth/sessions/"):
        assert ops[name]["security"] == either, name
    assert {"jwtBearer": []} not in ops["POST /auth/login/"].get("security", [])


def test_bodies(schema: dict[str, Any]) -> None:
    ops = operations(schema)
    components = schema["components"]["schemas"]

    login = ops["POST /auth/login/"]
    assert login["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JWTAuthLogin"
    }
    assert {"username", "email", "password", "transport"} <= set(
        components["JWTAuthLogin"]["properties"]
    )
    assert ref(login["responses"]["200"]) == "#/components/schemas/JWTAuthTokens"
    pair = components["JWTAuthTokenPair"]
    assert set(pair["required"]) == {"accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert set(components["JWTAuthCookieTokens"]["required"]) == {"success", "expiresIn"}
    assert "refreshToken" in components["JWTAuthRefresh"]["properties"]

    listing = ops["GET /auth/sessions/"]["responses"]["200"]["content"]["application/json"]
    assert listing["schema"]["type"] == "array"
    session = components["JWTAuthSession"]
    assert set(session["properties"]) == {
        "id",
        "createdAt",
        "lastUsedAt",
        "expiresAt",
        "userAgent",
        "ipAddress",
        "current",
    }
    envelope = components["JWTAuthErrorEnvelope"]
    assert envelope["required"] == ["error"]
    assert set(components["JWTAuthError"]["required"]) == {"code", "message"}


def test_core_modules_never_import_drf_spectacular() -> None:
    code = (
        "import os, sys, django\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'example_project.settings'\n"
        "django.setup()\n"
        "import jwtauth.admin, jwtauth.checks, jwtauth.views, jwtauth.urls, jwtauth._receivers\n"
        "import jwtauth.purge\n"
        "print('drf_spectacular' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert result.stdout.strip() == "False"


def test_the_jwks_endpoint_schema() -> None:
    # Stands in for ``jwtauth.views.JWKSView`` where that view is not (yet) part of the tree.
    class JWKSView(JWTAuthView):
        authentication_classes: list[Any] = []
        permission_classes = [AllowAny]

        def get(self, request: Any) -> Response:
            return Response({"keys": []})

    replaced = openapi.VIEW_SCHEMAS["JWKSView"](JWKSView.as_view()).view_replacement()
    generated = SchemaGenerator(
        patterns=[path(".well-known/jwks.json", replaced.as_view())]
    ).get_schema(request=None, public=True)

    responses = generated["paths"]["/.well-known/jwks.json"]["get"]["responses"]
    body = responses["200"]["content"]["application/json"]["schema"]
    assert body["properties"]["keys"]["type"] == "array"
    assert ref(responses["404"]) == ENVELOPE
    assert issubclass(replaced, JWKSView)


def test_ready_without_drf_spectacular_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.apps import apps

    installed = apps.is_installed
    monkeypatch.setattr(
        apps, "is_installed", lambda name: name != "drf_spectacular" and installed(name)
    )
    # Idempotent: the receivers have dispatch_uids, and checks register into a set.
    apps.get_app_config("jwtauth").ready()
