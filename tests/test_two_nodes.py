"""Two web nodes sharing PostgreSQL and Redis, as a network's deployment runs them behind its
proxy: two gunicorn processes of one worker each (bench/server.py, production settings). A
check-in posted to one node shows at the next poll of a waiting-room screen served by the other:
nothing of the queue lives in a process."""

from __future__ import annotations

import http.client
import os
import re
import shutil
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


def test_behind_the_proxy_a_session_works_on_whichever_node_answers(centre, settings):
    """HAProxy balances each request round-robin, without stickiness (bench/server.py, as
    `deploy/compose/haproxy.cfg`): a reception agent's requests alternate between the nodes and
    each one knows the agent, because the session lives in the shared database and cache."""
    if not (shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")):
        if os.environ.get("REQUIRE_BROWSER"):  # set in CI, which installs haproxy
            pytest.fail("haproxy is not installed")
        pytest.skip("haproxy is not installed (CI installs it)")
    settings.SECRET_KEY = bench_server.bench_environ()["SECRET_KEY"]
    browser = Client()
    browser.force_login(centre.reception)
    cookie = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}", "Host": "127.0.0.1"}
    env = {"DATABASE_URL": database_url()}

    with ExitStack() as nodes:
        ports = [nodes.enter_context(bench_server.serve(workers=1, env=env)).port for _ in "ab"]
        proxy = nodes.enter_context(bench_server.haproxy(ports))
        answers = []
        for _ in range(4):
            connection = http.client.HTTPConnection("127.0.0.1", proxy, timeout=10)
            connection.request("GET", "/reception/", headers=cookie)
            response = connection.getresponse()
            answers.append((response.status, response.getheader("X-Served-By"), response.read()))
            connection.close()

    assert [status for status, _node, _page in answers] == [200] * 4  # no redirect to log in
    assert {node for _status, node, _page in answers} == {"node1", "node2"}
    assert all(b'name="checkin_key"' in page for _status, _node, page in answers)
