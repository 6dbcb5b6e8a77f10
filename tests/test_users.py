"""get_user_by_pk: what _default_manager.get(pk=...) returns, from SQL compiled once."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, GroupManager, User
from django.core.exceptions import ValidationError
from django.db import NotSupportedError
from django.db.models import Model, QuerySet
from django.test import override_settings
from django.utils import timezone

from jwtauth import users
from jwtauth.models import Session
from jwtauth.users import get_user_by_pk, group_names
from tests.factories import UserFactory
from tests.rows import assert_same_row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    users._compiled.clear()
    users._compiled_names.clear()
    yield
    users._compiled.clear()
    users._compiled_names.clear()


def make_session(user: User, **fields: Any) -> Session:
    expires_at = timezone.now() + timedelta(days=1)
    return Session.objects.create(user=user, expires_at=expires_at, ip_address="::1", **fields)


def with_queryset(monkeypatch: pytest.MonkeyPatch, change: Callable[[QuerySet[Any]], Any]) -> None:
    """Session's default manager returns ``change(its queryset)``."""
    manager = Session._default_manager
    original = manager.get_queryset
    monkeypatch.setattr(manager, "get_queryset", lambda: change(original()))


def test_the_user_is_the_one_get_returns_field_by_field() -> None:
    user = UserFactory.create(is_staff=True, first_name="Zoë")
    user.last_login = timezone.now()
    user.save()
    found = get_user_by_pk(user.pk)
    assert_same_row(found, User._default_manager.get(pk=user.pk))
    assert found is not None
    assert found.last_login is not None
    assert timezone.is_aware(found.last_login)
    assert timezone.is_aware(found.date_joined)  # type: ignore[attr-defined]
    assert found.check_password("correct horse battery staple")


def test_a_pk_as_a_string_finds_the_same_user() -> None:
    user = UserFactory.create()
    assert_same_row(get_user_by_pk(str(user.pk)), user)


def test_no_user_with_that_pk_is_none(django_assert_num_queries: Any) -> None:
    user = UserFactory.create()
    with django_assert_num_queries(1):
        assert get_user_by_pk(user.pk + 1000) is None


@pytest.mark.parametrize("pk", [None, 2**63, -(2**63) - 1])
def test_a_pk_get_would_not_query_is_none_without_a_query(
    pk: Any, django_assert_num_queries: Any
) -> None:
    with pytest.raises(User.DoesNotExist):
        User._default_manager.get(pk=pk)
    with django_assert_num_queries(0):
        assert get_user_by_pk(pk) is None
    user = UserFactory.create()
    assert_same_row(get_user_by_pk(user.pk), user)
    assert users._compiled[User, "default"] is not None  # the odd pk did not spoil the cache


@pytest.mark.parametrize("pk", ["abc", [1]])
def test_an_invalid_pk_raises_as_get_does(pk: Any) -> None:
    with pytest.raises((ValueError, TypeError)) as from_get:
        User._default_manager.get(pk=pk)
    with pytest.raises(from_get.type):
        get_user_by_pk(pk)


def test_the_second_call_compiles_nothing_and_makes_one_query(
    compilations: list[str], django_assert_num_queries: Any
) -> None:
    user = UserFactory.create()
    other = UserFactory.create()
    compilations.clear()
    assert_same_row(get_user_by_pk(user.pk), user)
    assert len(compilations) == 1
    with django_assert_num_queries(1):
        assert_same_row(get_user_by_pk(other.pk), other)
    assert len(compilations) == 1


def test_the_sql_is_get_s_without_its_ordering_and_limit() -> None:
    session = make_session(UserFactory.create())
    assert_same_row(users._get_by_pk(Session, session.pk), Session.objects.get(pk=session.pk))
    compiled = users._compiled[Session, "default"]
    assert compiled is not None
    assert "ORDER BY" not in compiled.sql  # Session.Meta.ordering, which get() drops
    assert "LIMIT" not in compiled.sql


def test_a_uuid_pk_round_trips() -> None:
    session = make_session(UserFactory.create(), revoked_at=timezone.now())
    found = users._get_by_pk(Session, session.pk)
    assert_same_row(found, Session.objects.get(pk=session.pk))
    assert_same_row(users._get_by_pk(Session, str(session.pk)), session)
    assert users._compiled[Session, "default"] is not None
    with pytest.raises(ValidationError):
        users._get_by_pk(Session, "not-a-uuid")


def test_the_manager_s_filters_still_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    user = UserFactory.create()
    live, revoked = make_session(user), make_session(user, revoked_at=timezone.now())
    with_queryset(monkeypatch, lambda queryset: queryset.filter(revoked_at__isnull=True))
    assert_same_row(users._get_by_pk(Session, live.pk), live)
    assert users._get_by_pk(Session, revoked.pk) is None
    assert users._compiled[Session, "default"] is not None


class GetOfItsOwn(QuerySet[Session]):
    def get(self, *args: Any, **kwargs: Any) -> Session:
        return super().get(*args, **kwargs)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda qs: qs.select_related("user"), id="select_related"),
        pytest.param(lambda qs: qs.prefetch_related("refresh_tokens"), id="prefetch_related"),
        pytest.param(lambda qs: qs.defer("user_agent"), id="defer"),
        pytest.param(lambda qs: qs.only("id", "user"), id="only"),
        pytest.param(lambda qs: qs.extra(select={"one": "1"}), id="extra"),
        pytest.param(lambda qs: qs.distinct(), id="distinct"),
        # A parameter would be compiled once: a timezone.now() in it would never move.
        pytest.param(lambda qs: qs.filter(revoke_reason=""), id="parameter"),
        pytest.param(lambda qs: GetOfItsOwn(Session, using=qs._db), id="own-get"),
    ],
)
def test_other_querysets_are_left_to_the_orm(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[QuerySet[Any]], Any]
) -> None:
    session = make_session(UserFactory.create())
    with_queryset(monkeypatch, change)
    found = users._get_by_pk(Session, session.pk)
    assert users._compiled[Session, "default"] is None
    expected = Session._default_manager.get(pk=session.pk)
    assert_same_row(found, expected)
    assert vars(found).keys() == vars(expected).keys()  # deferred, related, extra alike
    assert users._get_by_pk(Session, uuid.uuid4()) is None


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda qs: qs[:5], id="sliced"),
        pytest.param(lambda qs: qs.union(qs), id="union"),
    ],
)
def test_a_queryset_get_refuses_raises_the_same_error(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[QuerySet[Any]], Any]
) -> None:
    session = make_session(UserFactory.create())
    with_queryset(monkeypatch, change)
    with pytest.raises((TypeError, NotSupportedError)) as from_get:
        Session._default_manager.get(pk=session.pk)
    with pytest.raises(from_get.type):
        users._get_by_pk(Session, session.pk)


def test_rows_a_join_duplicates_raise_as_get_does(monkeypatch: pytest.MonkeyPatch) -> None:
    session = make_session(UserFactory.create(groups=["a", "b"]))
    with_queryset(monkeypatch, lambda queryset: queryset.filter(user__groups__isnull=False))
    with pytest.raises(Session.MultipleObjectsReturned):
        Session._default_manager.get(pk=session.pk)
    with pytest.raises(Session.MultipleObjectsReturned):
        users._get_by_pk(Session, session.pk)


class CountingRouter:
    calls = 0

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        CountingRouter.calls += 1
        return "default"


@override_settings(DATABASE_ROUTERS=[f"{__name__}.CountingRouter"])
def test_the_router_chooses_the_database_on_every_call() -> None:
    user = UserFactory.create()
    CountingRouter.calls = 0
    get_user_by_pk(user.pk)
    get_user_by_pk(user.pk)
    assert CountingRouter.calls == 2
    assert list(users._compiled) == [(User, "default")]


def test_changing_the_user_model_clears_the_cache(compilations: list[str]) -> None:
    user = UserFactory.create()
    get_user_by_pk(user.pk)
    with override_settings(JWTAUTH={"USER_MODE": "database"}):
        assert users._compiled  # other settings leave it
    with override_settings(AUTH_USER_MODEL="auth.User"):
        assert not users._compiled
        compilations.clear()
        assert_same_row(get_user_by_pk(user.pk), user)
        assert len(compilations) == 1


def test_changing_the_databases_clears_the_cache() -> None:
    # override_settings(DATABASES=...) warns, and warnings are errors here: the
    # receiver is called as setting_changed calls it.
    get_user_by_pk(UserFactory.create().pk)
    users.clear_cache(setting="DATABASES", value={}, enter=True)
    assert not users._compiled


def orm_group_names(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def test_group_names_are_the_orm_s_sorted(django_assert_num_queries: Any) -> None:
    user = UserFactory.create(groups=["staff", "admin", "editors"])
    UserFactory.create(groups=["other"])
    expected = orm_group_names(user)
    with django_assert_num_queries(1):
        assert group_names(user) == ["admin", "editors", "staff"] == expected
    assert users._compiled_names[User, "default"] is not None


def test_a_user_in_no_group_has_no_names() -> None:
    UserFactory.create(groups=["other"])
    assert group_names(UserFactory.create()) == []


def test_group_names_compile_once(compilations: list[str], django_assert_num_queries: Any) -> None:
    user, other = UserFactory.create(groups=["a"]), UserFactory.create(groups=["b", "c"])
    compilations.clear()
    assert group_names(user) == ["a"]
    assert len(compilations) == 1
    with django_assert_num_queries(1):
        assert group_names(other) == ["b", "c"]
    assert len(compilations) == 1


def test_a_group_manager_with_parameters_is_left_to_the_orm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A parameter would be compiled once: the next user would get this one's filter value.
    user = UserFactory.create(groups=["editors", "staff", "external"])
    original = GroupManager.get_queryset
    monkeypatch.setattr(
        GroupManager, "get_queryset", lambda self: original(self).exclude(name="external")
    )
    assert group_names(user) == ["editors", "staff"] == orm_group_names(user)
    assert users._compiled_names[User, "default"] is None
    assert group_names(UserFactory.create(groups=["x"])) == ["x"]


def test_an_unsaved_user_raises_as_the_orm_does() -> None:
    with pytest.raises(ValueError, match="needs to have a value") as from_orm:
        orm_group_names(User(username="unsaved"))
    with pytest.raises(ValueError, match=re.escape(str(from_orm.value))):
        group_names(User(username="unsaved"))


class HintsRouter:
    seen: list[tuple[type[Model], dict[str, Any]]] = []

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        HintsRouter.seen.append((model, hints))
        return "default"


@override_settings(DATABASE_ROUTERS=[f"{__name__}.HintsRouter"])
def test_the_router_chooses_the_groups_database_given_the_user() -> None:
    user = UserFactory.create(groups=["a"])
    HintsRouter.seen = []
    assert group_names(user) == ["a"]
    assert group_names(user) == ["a"]
    asked = [(model, hints) for model, hints in HintsRouter.seen if model is Group]
    assert asked[-2:] == [(Group, {"instance": user})] * 2


def test_changing_the_databases_clears_the_group_names_cache_too() -> None:
    group_names(UserFactory.create(groups=["a"]))
    assert users._compiled_names
    users.clear_cache(setting="DATABASES", value={}, enter=True)
    assert not users._compiled_names
