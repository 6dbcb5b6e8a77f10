"""Account changes revoke the user's sessions and access tokens (SPEC §5)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher, make_password
from django.contrib.auth.management.commands import changepassword
from django.core.management import call_command
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from jwtauth.models import Session
from jwtauth.signals import session_revoked
from tests.factories import PASSWORD, UserFactory
from tests.helpers import bearer, override_jwtauth

pytestmark = pytest.mark.django_db


class RetiredMD5PasswordHasher(MD5PasswordHasher):
    """A hasher no longer preferred: checking a password with it re-hashes it."""

    algorithm = "retired_md5"


def users_connection() -> BaseDatabaseWrapper:
    """The connection to the database the router chose for the user model."""
    return connections[router.db_for_write(get_user_model())]


@pytest.fixture
def reasons() -> Any:
    seen: list[str] = []

    def receiver(sender: Any, reason: str, **kwargs: Any) -> None:
        seen.append(reason)

    session_revoked.connect(receiver)
    yield seen
    session_revoked.disconnect(receiver)


def assert_all_revoked(client: Any, user: Any, tokens: list[dict[str, Any]], reason: str) -> None:
    assert not Session.objects.live().filter(user=user).exists()
    assert set(Session.objects.filter(user=user).values_list("revoke_reason", flat=True)) == {
        reason
    }
    for pair in tokens:
        response = client.get("/api/me/", **bearer(pair))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "TOKEN_REVOKED"
        refresh = client.post(
            "/auth/refresh/", {"refreshToken": pair["refreshToken"]}, format="json"
        )
        assert refresh.status_code == 401


def test_set_password_and_save_revokes_everything(
    client: Any, user: Any, login: Any, reasons: list[str], after_commit: Any
) -> None:
    tokens = [login(user), login(user)]

    with after_commit():
        user.set_password("a brand new password")
        user.save()

    assert_all_revoked(client, user, tokens, "password_change")
    assert reasons == ["password_change", "password_change"]


def test_a_login_with_the_new_password_right_after_the_change_lives(
    client: Any, user: Any, login: Any, frozen_clock: Any
) -> None:
    # The clock stands still but for the revocation's wait: one millisecond for all.
    before = login(user)
    user.set_password("a brand new password")
    user.save()
    after = client.post(
        "/auth/login/",
        {"username": user.username, "password": "a brand new password"},
        format="json",
    ).json()

    assert client.get("/api/me/", **bearer(after)).status_code == 200
    assert client.get("/api/me/", **bearer(before)).json()["error"]["code"] == "TOKEN_REVOKED"


def test_password_change_with_update_fields_revokes(client: Any, user: Any, login: Any) -> None:
    tokens = [login(user)]

    user.set_password("a brand new password")
    user.save(update_fields=["password"])

    assert_all_revoked(client, user, tokens, "password_change")


def test_a_hash_assigned_directly_revokes(client: Any, user: Any, login: Any) -> None:
    tokens = [login(user)]

    user.password = make_password("another password")
    user.save()

    assert_all_revoked(client, user, tokens, "password_change")


def test_admin_password_form_revokes(client: Any, admin_client: Any, login: Any) -> None:
    user: Any = UserFactory()
    tokens = [login(user)]

    response = admin_client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": "Changed-by-admin-42", "password2": "Changed-by-admin-42"},
    )

    assert response.status_code == 302, response.content
    assert_all_revoked(client, user, tokens, "password_change")


def test_changepassword_command_revokes(
    client: Any, user: Any, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = [login(user)]
    monkeypatch.setattr(
        changepassword.Command, "_get_pass", lambda self, prompt="": "Changed-by-cli-42"
    )

    database = router.db_for_write(type(user))
    call_command("changepassword", user.username, database=database, stdout=StringIO())

    assert_all_revoked(client, user, tokens, "password_change")


def test_deactivation_revokes(
    client: Any, user: Any, login: Any, reasons: list[str], after_commit: Any
) -> None:
    tokens = [login(user)]

    with after_commit():
        user.is_active = False
        user.save()

    assert not Session.objects.live().filter(user=user).exists()
    assert Session.objects.get(user=user).revoke_reason == "deactivated"
    assert reasons == ["deactivated"]
    refresh = client.post(
        "/auth/refresh/", {"refreshToken": tokens[0]["refreshToken"]}, format="json"
    )
    assert refresh.status_code == 401


def test_deactivation_in_token_mode_kills_the_access_token(
    client: Any, user: Any, login: Any
) -> None:
    with override_jwtauth(USER_MODE="token"):
        tokens = login(user)
        assert client.get("/api/me/", **bearer(tokens)).status_code == 200

        user.is_active = False
        user.save(update_fields=["is_active"])

        response = client.get("/api/me/", **bearer(tokens))
        assert response.json()["error"]["code"] == "TOKEN_REVOKED"


def test_deletion_revokes_before_the_rows_cascade_away(
    client: Any, user: Any, login: Any, reasons: list[str], after_commit: Any
) -> None:
    with override_jwtauth(USER_MODE="token"):
        tokens = login(user)
        assert client.get("/api/me/", **bearer(tokens)).status_code == 200

        with after_commit():
            user.delete()

        response = client.get("/api/me/", **bearer(tokens))
        assert response.json()["error"]["code"] == "TOKEN_REVOKED"
    assert reasons == ["deleted"]
    assert not Session.objects.exists()


def test_queryset_deletion_revokes_too(
    client: Any, login: Any, reasons: list[str], after_commit: Any
) -> None:
    users: list[Any] = UserFactory.create_batch(2)
    for each in users:
        login(each)

    with after_commit():
        type(users[0]).objects.filter(pk__in=[each.pk for each in users]).delete()

    assert reasons == ["deleted", "deleted"]


def test_other_changes_revoke_nothing(client: Any, user: Any, login: Any) -> None:
    tokens = login(user)

    user.email = "changed@example.com"
    user.first_name = "Changed"
    user.save()

    assert client.get("/api/me/", **bearer(tokens)).status_code == 200
    assert Session.objects.live().filter(user=user).count() == 1


def test_saving_unwatched_fields_costs_no_extra_query(user: Any) -> None:
    with CaptureQueriesContext(users_connection()) as queries:
        user.save(update_fields=["last_login"])

    assert len(queries) == 1


def test_creating_a_user_revokes_nothing_and_reads_nothing() -> None:
    with CaptureQueriesContext(users_connection()) as queries:
        UserFactory()

    assert not any(query["sql"].lstrip().upper().startswith("SELECT") for query in queries)


@override_settings(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "tests.test_receivers.RetiredMD5PasswordHasher",
    ]
)
def test_a_password_hash_upgrade_is_not_a_password_change(
    client: Any, login: Any, reasons: list[str], after_commit: Any
) -> None:
    user: Any = UserFactory()
    earlier_session = login(user)
    retired = make_password(PASSWORD, hasher="retired_md5")
    type(user).objects.filter(pk=user.pk).update(password=retired)  # sends no signal

    with after_commit():
        login(user)  # checks the password, and re-hashes it with the preferred hasher

    user.refresh_from_db()
    assert user.password.startswith("md5$")
    assert client.get("/api/me/", **bearer(earlier_session)).status_code == 200
    assert Session.objects.live().filter(user=user).count() == 2
    assert reasons == []


def test_saving_a_user_whose_row_is_gone_revokes_nothing(
    user: Any, reasons: list[str], after_commit: Any
) -> None:
    stale: Any = type(user).objects.get(pk=user.pk)
    user.delete()

    with after_commit():
        stale.is_active = False
        stale.save()  # an UPDATE of no row, then an INSERT

    assert reasons == []


def test_a_user_model_without_is_active_is_watched_for_its_password_only() -> None:
    from django.contrib.auth.models import Group

    from jwtauth import _receivers as receivers

    assert receivers._has_field(Group, "is_active") is False
    assert receivers._has_field(type(UserFactory.build()), "is_active") is True
