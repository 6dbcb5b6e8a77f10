from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from example_project.api import views
from example_project.api.ninja import api as ninja_api

urlpatterns = [
    path("", views.index, name="index"),
    path("auth/", include("jwtauth.urls")),
    path("api/me/", views.MeView.as_view(), name="me"),
    # The same, on Django Ninja: /ninja/me, /ninja/me-async, and the endpoints at /ninja/auth/.
    path("ninja/", ninja_api.urls),
    path("admin/", admin.site.urls),
]
