"""jwtauth mounted below a prefix, to check paths derived from ``reverse``."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("api/v1/auth/", include("jwtauth.urls"))]
