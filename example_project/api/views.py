from __future__ import annotations

from typing import Any, cast

from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


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
