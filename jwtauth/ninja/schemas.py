"""Request and response bodies of the Ninja endpoints: the wire format of SPEC §2.

Field names are the DRF API's camelCase ones. Strings are strict (a number or a
boolean where a string belongs is a 400, never coerced) and bounded as the DRF
serializers bound them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import (
    BaseModel,
    ConfigDict,
    StrictStr,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from ..claims import email_field_name
from ..serializers import MAX_IDENTIFIER_LENGTH, MAX_PASSWORD_LENGTH
from ..sessions import MAX_REFRESH_TOKEN_LENGTH

Identifier = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_IDENTIFIER_LENGTH),
]
Password = Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
_IDENTIFIER = TypeAdapter(Identifier)


def _identifiers() -> list[str]:
    """The names a login may identify its user by: ``USERNAME_FIELD``, and ``email`` when
    the user model has an email field (as ``LoginSerializer`` has them)."""
    user_model = get_user_model()
    names = {user_model.USERNAME_FIELD}
    if user_model.USERNAME_FIELD == "email" or email_field_name(user_model) is not None:
        names.add("email")
    return sorted(names)


class LoginIn(BaseModel):
    """``username`` (the user model's ``USERNAME_FIELD``) or ``email``, and the password."""

    # A user model whose USERNAME_FIELD is another name sends that name. (A plain
    # pydantic model: Ninja's Schema reads attributes, and would drop such a field.)
    model_config = ConfigDict(extra="allow")

    username: Identifier | None = None
    email: Identifier | None = None
    password: Password
    transport: Literal["body", "cookie"] | None = None

    @model_validator(mode="after")
    def one_identifier(self) -> LoginIn:
        username_field = get_user_model().USERNAME_FIELD
        extra = self.model_extra or {}
        if username_field in extra:
            extra[username_field] = _IDENTIFIER.validate_python(extra[username_field])
        names = _identifiers()
        if sum(1 for name in names if self.identifier(name)) != 1:
            raise ValueError(_("Give exactly one of: %(fields)s.") % {"fields": ", ".join(names)})
        return self

    def identifier(self, name: str) -> str | None:
        value = getattr(self, name, None) if name in ("username", "email") else None
        if value is None:
            value = (self.model_extra or {}).get(name)
        return value

    def credentials(self) -> dict[str, Any]:
        """What ``authenticate_credentials`` takes: the one identifier given, and the password."""
        data: dict[str, Any] = {"password": self.password}
        for name in _identifiers():
            value = self.identifier(name)
            if value:
                data[name] = value
        return data


class RefreshIn(Schema):
    """The refresh token, unless it travels in the refresh cookie.

    Any string, of any length, as on the DRF side: one that is not a live refresh token
    is a 401 ``INVALID_REFRESH_TOKEN``, not a 400. Only ``null``, a non-string, and (in a
    string no longer than a refresh token) NUL or lone surrogate characters are a 400.
    """

    refreshToken: StrictStr | None = None

    @field_validator("refreshToken", mode="before")
    @classmethod
    def not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError(_("This field may not be null."))
        return value

    @field_validator("refreshToken")
    @classmethod
    def printable(cls, value: str | None) -> str | None:
        if value is not None and len(value) <= MAX_REFRESH_TOKEN_LENGTH:
            if "\x00" in value:
                raise ValueError(_("Null characters are not allowed."))
            if any("\ud800" <= char <= "\udfff" for char in value):
                raise ValueError(_("Surrogate characters are not allowed."))
        return value


class TokensOut(Schema):
    accessToken: str
    refreshToken: str
    expiresIn: int
    tokenType: Literal["Bearer"] = "Bearer"


class CookieTokensOut(Schema):
    """The cookie transport's answer: the tokens are in the cookies, not here."""

    success: Literal[True] = True
    expiresIn: int


# As the DRF endpoint writes them (SessionSerializer): ISO 8601, to the microsecond.
DateTimeText = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


class SessionOut(Schema):
    id: str
    createdAt: DateTimeText
    lastUsedAt: DateTimeText
    expiresAt: DateTimeText
    userAgent: str
    ipAddress: str | None
    current: bool


class JWKSOut(Schema):
    keys: list[dict[str, Any]]


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, Any] | None = None


class ErrorOut(Schema):
    """Every error (SPEC §4)."""

    error: ErrorDetail
