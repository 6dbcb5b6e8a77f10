from __future__ import annotations

from django.apps import AppConfig
from django.core.signals import setting_changed
from django.utils.translation import gettext_lazy as _


class JWTAuthConfig(AppConfig):
    name = "jwtauth"
    verbose_name = _("JWT authentication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .conf import reload_app_settings
        from .keys import reset_key_ring

        setting_changed.connect(reload_app_settings, dispatch_uid="jwtauth.conf.reload")
        setting_changed.connect(reset_key_ring, dispatch_uid="jwtauth.keys.reset")
