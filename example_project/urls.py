from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from example_project.api import views

urlpatterns = [
    path("", views.index, name="index"),
    path("auth/", include("jwtauth.urls")),
    path("api/me/", views.MeView.as_view(), name="me"),
    path("admin/", admin.site.urls),
]
