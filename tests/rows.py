"""Rows compared field by field, for the tests of SQL compiled once."""

from __future__ import annotations

from django.db.models import Model


def assert_same_row(found: Model | None, expected: Model) -> None:
    """Every concrete field equal, and of the same type (bool, not 1; UUID, not its hex)."""
    assert found is not None
    assert type(found) is type(expected)
    for field in type(expected)._meta.concrete_fields:
        value, wanted = getattr(found, field.attname), getattr(expected, field.attname)
        assert (type(value), value) == (type(wanted), wanted), field.name
    assert found._state.db == expected._state.db
    assert found._state.adding is False
