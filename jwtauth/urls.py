"""Mount with ``path("auth/", include("jwtauth.urls"))``."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "jwtauth"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("refresh/", views.RefreshView.as_view(), name="refresh"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("logout-all/", views.LogoutAllView.as_view(), name="logout-all"),
    path(".well-known/jwks.json", views.JWKSView.as_view(), name="jwks"),
    path("sessions/", views.SessionListView.as_view(), name="sessions"),
    # path, not uuid: any id, however malformed, gets the 404 envelope from the view.
    path("sessions/<path:session_id>/", views.SessionDetailView.as_view(), name="session-detail"),
]
