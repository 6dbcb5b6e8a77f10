"""refresh_token_by_digest: what the ORM's select_related get() returns, from SQL compiled once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from jwtauth import reads, sessions
from jwtauth.models import RefreshToken
from jwtauth.reads import refresh_token_by_digest
from tests.factories import UserFactory
from tests.rows import assert_same_row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache() -> Any:
    reads._compiled.clear()
    yield
    reads._compiled.clear()


def orm_get(digest: str) -> RefreshToken:
    return RefreshToken.objects.select_related("session__user").get(digest=digest)


def assert_same_chain(found: RefreshToken, expected: RefreshToken) -> None:
    assert_same_row(found, expected)
    assert_same_row(found.session, expected.session)
    assert_same_row(found.session.user, expected.session.user)


def test_the_token_session_and_user_are_the_ones_get_returns(
    django_assert_num_queries: Any,
) -> None:
    user = UserFactory.create(first_name="Zoë", is_staff=True)
    issued = sessions.start_session(user, user_agent="agent", ip_address="::1")
    sessions.start_session(UserFactory.create())  # another chain, not to be mixed in
    digest = sessions.digest(issued.refresh)
    expected = orm_get(digest)
    with django_assert_num_queries(1):
        found = refresh_token_by_digest(digest)
        assert found.session.user.pk == user.pk  # cached by the join: no query
    assert_same_chain(found, expected)
    assert timezone.is_aware(found.session.expires_at)
    assert isinstance(found.session.user, User)


def test_a_revoked_session_reads_as_it_is_stored() -> None:
    issued = sessions.start_session(UserFactory.create())
    issued.session.revoked_at = timezone.now()
    issued.session.revoke_reason = "admin"
    issued.session.save()
    digest = sessions.digest(issued.refresh)
    assert_same_chain(refresh_token_by_digest(digest), orm_get(digest))


def test_an_unknown_digest_raises_does_not_exist() -> None:
    with pytest.raises(RefreshToken.DoesNotExist):
        refresh_token_by_digest("f" * 64)
    with pytest.raises(RefreshToken.DoesNotExist):
        refresh_token_by_digest("")


def test_the_second_read_compiles_nothing_and_makes_one_query(
    compilations: list[str], django_assert_num_queries: Any
) -> None:
    first = sessions.start_session(UserFactory.create())
    second = sessions.start_session(UserFactory.create())
    compilations.clear()
    refresh_token_by_digest(sessions.digest(first.refresh))
    assert len(compilations) == 1
    with django_assert_num_queries(1):
        found = refresh_token_by_digest(sessions.digest(second.refresh))
    assert found.session.sid == second.session.sid
    assert len(compilations) == 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda qs: qs.select_related(None).select_related("session"), id="no-user"),
        pytest.param(lambda qs: qs.defer("session__user_agent"), id="deferred-columns"),
        pytest.param(lambda qs: qs.filter(generation__gte=0), id="a-parameter-of-its-own"),
    ],
)
def test_a_join_of_another_shape_is_left_to_the_orm(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[QuerySet[RefreshToken]], Any]
) -> None:
    queryset = reads._queryset
    monkeypatch.setattr(reads, "_queryset", lambda alias: change(queryset(alias)))
    issued = sessions.start_session(UserFactory.create())
    digest = sessions.digest(issued.refresh)
    found = refresh_token_by_digest(digest)
    assert reads._compiled == {"default": None}
    assert_same_row(found, orm_get(digest))
    assert found.session.sid == issued.session.sid
    with pytest.raises(RefreshToken.DoesNotExist):
        refresh_token_by_digest("f" * 64)


def test_changing_the_databases_or_the_user_model_clears_the_cache() -> None:
    issued = sessions.start_session(UserFactory.create())
    refresh_token_by_digest(sessions.digest(issued.refresh))
    reads.clear_cache(setting="JWTAUTH", value={}, enter=True)
    assert reads._compiled
    for setting in ("DATABASES", "AUTH_USER_MODEL"):
        refresh_token_by_digest(sessions.digest(issued.refresh))
        reads.clear_cache(setting=setting, value={}, enter=True)
        assert not reads._compiled
