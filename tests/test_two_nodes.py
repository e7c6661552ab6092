"""Two web nodes sharing PostgreSQL and Redis, as a network's deployment runs them behind its
proxy: two gunicorn processes of one worker each (bench/server.py, production settings). A
check-in posted to one node shows at the next poll of a waiting-room screen served by the other:
nothing of the queue lives in a process."""

from __future__ import annotations

import http.client
import re
import time
import uuid
from contextlib import ExitStack
from html import unescape
from urllib.parse import urlencode

import pytest
from django.test import Client

from bench import server as bench_server
from citedesmetiers.models import Theme
from tests.test_reports_worker import database_url

pytestmark = pytest.mark.django_db(transaction=True)

LIVE_POLL = re.compile(r'hx-get="(/display/alpha/live/\?[^"]+)"')


def get(port: int, path: str, headers: dict | None = None, body: str | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST" if body is not None else "GET", path, body, headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def waiting_for(html: str, theme: str) -> int:
    """How many the screen says wait for the theme ("1 en attente": the site's language)."""
    block = html.split(f">{theme}<", 1)[1]
    return int(re.search(r'class="count">\s*(\d+)', block).group(1))


def test_a_check_in_on_one_node_shows_at_the_next_poll_of_a_screen_on_the_other(centre, settings):
    # The nodes' key, so that the session made here is theirs too.
    settings.SECRET_KEY = bench_server.bench_environ()["SECRET_KEY"]
    browser = Client()
    browser.force_login(centre.reception)
    session = browser.cookies["sessionid"].value
    csrf = "a" * 32
    theme = Theme.objects.get(site=centre.alpha, letter="E")
    env = {"DATABASE_URL": database_url(), "LIVE_POLL_SECONDS": "2"}

    with ExitStack() as nodes:
        reception_node = nodes.enter_context(bench_server.serve(workers=1, env=env))
        screen_node = nodes.enter_context(bench_server.serve(workers=1, env=env))
        assert reception_node.port != screen_node.port

        status, page = get(screen_node.port, "/display/alpha/")
        assert status == 200
        poll = unescape(LIVE_POLL.search(page).group(1))
        assert 'hx-trigger="every 2s' in page  # the screen polls every 2 s
        assert waiting_for(page, theme.name) == 0
        assert get(screen_node.port, poll)[0] == 204  # nothing changed yet

        status, _ = get(
            reception_node.port,
            "/reception/check-in/",
            {
                "Cookie": f"sessionid={session}; csrftoken={csrf}",
                "X-CSRFToken": csrf,
                "Content-Type": "application/x-www-form-urlencoded",
                "Host": "127.0.0.1",
            },
            urlencode({"theme": theme.pk, "checkin_key": uuid.uuid4(), "override_hours": "on"}),
        )
        assert status in (200, 302)
        checked_in = time.monotonic()

        # The screen's very next poll, on the other node, brings the new queue.
        status, board = get(screen_node.port, poll)
        assert status == 200
        assert waiting_for(board, theme.name) == 1
        assert time.monotonic() - checked_in < 2
