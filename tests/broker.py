"""A Celery broker that cannot be reached: a real Redis URL on a port where nothing listens
(not a mock), made the current Celery app for the length of a test."""

from __future__ import annotations

import socket

import pytest
from celery.contrib.testing.app import TestApp, setup_default_app


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago): connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(name="broker_down")
def fixture_broker_down():
    app = TestApp(
        "broker-down",
        broker=f"redis://127.0.0.1:{closed_port()}/0",
        config={"task_always_eager": False, "broker_connection_timeout": 2},
    )
    with setup_default_app(app):
        app.set_default()
        app.set_current()
        yield app
