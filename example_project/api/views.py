from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


@ensure_csrf_cookie
def index(request: HttpRequest) -> HttpResponse:
    """The browser page: it logs in with the cookie transport, so it needs a CSRF cookie."""
    return render(request, "example_project/index.html")


class MeView(APIView):
    """The protected example resource: who the access token belongs to."""

    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        user: Any = request.user
        claims = cast("dict[str, Any]", request.auth or {})
        return Response(
            {
                "id": str(user.pk),
                "username": user.get_username(),
                "email": getattr(user, "email", "") or claims.get("email", ""),
                "roles": claims.get("roles", []),
            }
        )
