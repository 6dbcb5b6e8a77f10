"""Request bodies of the jwtauth endpoints: strict types, bounded sizes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .claims import email_field_name
from .sessions import MAX_REFRESH_TOKEN_LENGTH

# Long enough for any passphrase; short enough that a hasher never chews megabytes.
MAX_PASSWORD_LENGTH = 1024
MAX_IDENTIFIER_LENGTH = 254


class StrictCharField(serializers.CharField):
    """A ``CharField`` that refuses numbers and booleans instead of stringifying them."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class LoginSerializer(serializers.Serializer[Any]):
    email = StrictCharField(required=False, max_length=MAX_IDENTIFIER_LENGTH)
    password = StrictCharField(max_length=MAX_PASSWORD_LENGTH, trim_whitespace=False)
    transport = serializers.ChoiceField(choices=["body", "cookie"], required=False)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        user_model = get_user_model()
        if user_model.USERNAME_FIELD != "email" and email_field_name(user_model) is None:
            del fields["email"]  # a user model without an email field: by username only
        if user_model.USERNAME_FIELD not in fields:
            fields[user_model.USERNAME_FIELD] = StrictCharField(
                required=False, max_length=MAX_IDENTIFIER_LENGTH
            )
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        identifiers = {get_user_model().USERNAME_FIELD, "email"} & set(self.fields)
        given = [name for name in identifiers if attrs.get(name)]
        if len(given) != 1:
            raise serializers.ValidationError(
                _("Give exactly one of: %(fields)s.") % {"fields": ", ".join(sorted(identifiers))}
            )
        return attrs


class RefreshTokenField(StrictCharField):
    """Any string, of any length: one that is not a refresh token is a 401
    ``INVALID_REFRESH_TOKEN`` from ``jwtauth.sessions``, not a 400 from here.

    A string longer than any refresh token skips the per-character checks (NUL, lone
    surrogates): it is refused by its length alone, before it is hashed, so a body of
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` costs no more than its parsing.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_blank=True, trim_whitespace=False, **kwargs)

    def run_validators(self, value: Any) -> None:
        if len(value) <= MAX_REFRESH_TOKEN_LENGTH:
            super().run_validators(value)


class RefreshSerializer(serializers.Serializer[Any]):
    refreshToken = RefreshTokenField()


class LogoutSerializer(RefreshSerializer):
    pass


class SessionSerializer(serializers.Serializer[Any]):
    """One of the caller's live sessions, as ``GET sessions/`` lists it."""

    id = serializers.CharField(source="sid", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    lastUsedAt = serializers.DateTimeField(source="last_used_at", read_only=True)
    expiresAt = serializers.DateTimeField(source="expires_at", read_only=True)
    userAgent = serializers.CharField(source="user_agent", read_only=True)
    ipAddress = serializers.IPAddressField(source="ip_address", read_only=True, allow_null=True)
    current = serializers.SerializerMethodField()

    def get_current(self, session: Any) -> bool:
        return bool(session.sid == self.context.get("current_sid"))
