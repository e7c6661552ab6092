"""Staff sessions that end after inactivity, and after a working day at most.

Django dates a session's end from its last save (`SESSION_COOKIE_AGE` after it), and a session is
saved only when its data changes: a desk used all morning without changing its session ended
`STAFF_SESSION_MINUTES` after the login, while one left open at lunch lived on. Here a logged-in
session read by a request is saved again once its last save is `REFRESH_SECONDS` old, so it ends
`STAFF_SESSION_MINUTES` after the last activity; and whatever the activity, `MAX_SESSION_HOURS`
after the login. Live polls answered "nothing changed" never read the session, so a screen left
alone does not keep it alive (a poll that brings something new does)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import cached_db, db

STARTED = "_started_at"
REFRESHED = "_refreshed_at"
REFRESH_SECONDS = 5 * 60
# The cached copy of a session lives this long at most: a logout whose cache delete was lost
# while Redis was away (citedesmetiers.cache) cannot outlive it.
CACHED_SECONDS = REFRESH_SECONDS


class _StaffSession:
    def load(self) -> dict:
        data = super().load()
        if SESSION_KEY not in data:
            return data
        now = int(time.time())
        if STARTED not in data:
            data[STARTED] = now  # a session from before this rule: its day starts now
            self.modified = True
        if now - data[STARTED] > settings.MAX_SESSION_HOURS * 3600:
            self.delete()  # a working day is over: log in again
            self._session_key = None
            return {}
        if now - data.get(REFRESHED, 0) > REFRESH_SECONDS:
            data[REFRESHED] = now
            self.modified = True  # saved with a new end at the end of this request
        return data


class _Briefly:
    """A cache that keeps what is set in it CACHED_SECONDS at most."""

    def __init__(self, cache):
        self._cache = cache

    def set(self, key, value, timeout=None, version=None):
        timeout = CACHED_SECONDS if timeout is None else min(timeout, CACHED_SECONDS)
        return self._cache.set(key, value, timeout, version)

    def __contains__(self, key) -> bool:
        return key in self._cache

    def __getattr__(self, name):
        return getattr(self._cache, name)


class DatabaseSessionStore(_StaffSession, db.SessionStore):
    pass


class CachedSessionStore(_StaffSession, cached_db.SessionStore):
    """Read from the cache (Redis), written through to the database."""

    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = _Briefly(self._cache)


def __getattr__(name: str):
    # Django reads `SessionStore` from the engine's module: the store of the settings in force
    # (with Redis, the cached one), read when asked, so settings changed in tests apply too.
    if name == "SessionStore":
        return CachedSessionStore if settings.SESSION_IN_CACHE else DatabaseSessionStore
    raise AttributeError(name)


def mark_login(sender, request, user, **kwargs) -> None:
    """On every login: the working day of this session starts now."""
    now = int(time.time())
    request.session[STARTED] = now
    request.session[REFRESHED] = now
