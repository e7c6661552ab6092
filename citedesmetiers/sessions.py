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

_Base = cached_db.SessionStore if settings.SESSION_IN_CACHE else db.SessionStore


class SessionStore(_Base):
    def load(self) -> dict:
        data = super().load()
        if SESSION_KEY not in data:
            return data
        now = int(time.time())
        if now - data.get(STARTED, now) > settings.MAX_SESSION_HOURS * 3600:
            self.delete()  # a working day is over: log in again
            self._session_key = None
            return {}
        if now - data.get(REFRESHED, 0) > REFRESH_SECONDS:
            data[REFRESHED] = now
            self.modified = True  # saved with a new end at the end of this request
        return data


def mark_login(sender, request, user, **kwargs) -> None:
    """On every login: the working day of this session starts now."""
    now = int(time.time())
    request.session[STARTED] = now
    request.session[REFRESHED] = now
