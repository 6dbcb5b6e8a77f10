"""One tiny resource, served with no authentication and with each contender's."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import (
    JWTAuthentication as SimpleJWTAuthentication,
)
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication

from jwtauth.authentication import JWTAuthentication


class FloorView(APIView):
    """The floor: what DRF and the middleware cost with no authentication at all."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        user = request.user
        return Response({"id": str(getattr(user, "pk", None))})


class JWTAuthMeView(FloorView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]


class SimpleJWTMeView(FloorView):
    authentication_classes = [SimpleJWTAuthentication]
    permission_classes = [IsAuthenticated]


class SimpleJWTStatelessMeView(FloorView):
    authentication_classes = [JWTStatelessUserAuthentication]
    permission_classes = [IsAuthenticated]
