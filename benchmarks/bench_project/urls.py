from __future__ import annotations

from django.urls import include, path
from rest_framework_simplejwt.views import (
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
)

from . import views
from .ninja_api import api as ninja_api

urlpatterns = [
    path("floor/", views.FloorView.as_view()),
    path("jwtauth/me/", views.JWTAuthMeView.as_view()),
    path("auth/", include("jwtauth.urls")),
    path("simplejwt/me/", views.SimpleJWTMeView.as_view()),
    path("simplejwt/me-stateless/", views.SimpleJWTStatelessMeView.as_view()),
    path("simplejwt/token/", TokenObtainPairView.as_view()),
    path("simplejwt/token/refresh/", TokenRefreshView.as_view()),
    path("simplejwt/token/blacklist/", TokenBlacklistView.as_view()),
    path("ninja/", ninja_api.urls),
]
