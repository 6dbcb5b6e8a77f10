"""Signals jwtauth sends. Every one is sent after the database change it reports has committed.

``tokens_issued(sender=Session, user, session, rotated)``
    A login (``rotated=False``) or a refresh (``rotated=True``) issued tokens.

``session_revoked(sender=Session, user_id, session_id, reason)``
    One per session revoked; ``reason`` is one of ``REVOKE_REASONS``.

``refresh_token_reused(sender=Session, user, session)``
    A consumed refresh token was presented again: possible theft. The session
    has already been revoked (``session_revoked`` with reason ``"reuse"``).
"""

from __future__ import annotations

from django.dispatch import Signal

tokens_issued = Signal()
session_revoked = Signal()
refresh_token_reused = Signal()

REVOKE_REASONS = (
    "logout",
    "logout_all",
    "reuse",
    "admin",
    "api",
    "password_change",
    "deactivated",
    "deleted",
    "session_limit",
)
