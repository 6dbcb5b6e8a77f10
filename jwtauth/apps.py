from __future__ import annotations

from django.apps import AppConfig, apps
from django.core import checks as django_checks
from django.core.signals import setting_changed
from django.utils.translation import gettext_lazy as _


class JWTAuthConfig(AppConfig):
    name = "jwtauth"
    verbose_name = _("JWT authentication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_save, pre_delete, pre_save

        from . import _receivers as receivers
        from . import checks, revocation
        from .conf import reload_app_settings
        from .keys import reset_key_ring
        from .nearcache import settings_changed as reset_near_caches
        from .revocation import forget_outages

        setting_changed.connect(reload_app_settings, dispatch_uid="jwtauth.conf.reload")
        setting_changed.connect(reset_key_ring, dispatch_uid="jwtauth.keys.reset")
        setting_changed.connect(forget_outages, dispatch_uid="jwtauth.revocation.outages")
        setting_changed.connect(reset_near_caches, dispatch_uid="jwtauth.nearcache.reset")
        setting_changed.connect(
            revocation.forget_async_stores, dispatch_uid="jwtauth.revocation.forget"
        )

        user_model = settings.AUTH_USER_MODEL
        pre_save.connect(receivers.user_pre_save, sender=user_model, dispatch_uid="jwtauth.pre")
        post_save.connect(receivers.user_post_save, sender=user_model, dispatch_uid="jwtauth.post")
        pre_delete.connect(
            receivers.user_pre_delete, sender=user_model, dispatch_uid="jwtauth.delete"
        )

        django_checks.register(checks.check_installed_apps)
        django_checks.register(checks.check_settings)
        django_checks.register(checks.check_keys, django_checks.Tags.security)
        django_checks.register(checks.check_cookies, django_checks.Tags.security)
        django_checks.register(checks.check_issuer_and_audience, django_checks.Tags.security)
        django_checks.register(checks.check_revocation_cache, django_checks.Tags.caches)
        django_checks.register(checks.check_redis_eviction, django_checks.Tags.caches, deploy=True)
        django_checks.register(
            checks.check_revocation_store_reachable, django_checks.Tags.caches, deploy=True
        )

        if apps.is_installed("django.contrib.admin"):
            # After the admin's autodiscovery (django.contrib.admin comes first in
            # INSTALLED_APPS): the user's admin page lists the user's sessions.
            from django.contrib.admin import site

            from .admin import add_sessions_to_user_admin

            add_sessions_to_user_admin(site)

        if apps.is_installed("drf_spectacular"):
            # Registers the schema extensions; drf-spectacular stays an optional dependency.
            from . import openapi  # noqa: F401
