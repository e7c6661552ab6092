import json
import subprocess
import sys

from citedesmetiers.celery import app as celery_app
from tests.test_settings import ROOT


def test_it_reports_database_cache_and_broker_up(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"}


def test_it_says_degraded_when_the_broker_is_down(client, db, monkeypatch):
    # A real connection attempt to a port where nothing listens. Reception and the desks go on
    # without a broker (mails wait in the outbox), so the web container stays healthy.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")
    monkeypatch.setattr(celery_app, "_pool", None)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "cache": "ok",
        "broker": "down",
    }


def test_it_names_no_server_or_transport(client, db):
    body = client.get("/healthz").content.decode()
    for word in ("redis", "filesystem", "amqp", "sqlite", "postgres", "127.0.0.1"):
        assert word not in body.lower()


def test_it_answers_503_when_the_database_is_down():
    # A separate process whose database server does not exist.
    code = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client(HTTP_HOST='127.0.0.1').get('/healthz'); "
        "print(r.status_code, r.content.decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DEBUG": "true",
            "DATABASE_URL": "postgres://nobody:x@127.0.0.1:9/nothing",
            "DJANGO_SETTINGS_MODULE": "citedesmetiers.settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.split(" ", 1)
    assert status == "503"
    assert json.loads(body)["database"] == "down"
    assert json.loads(body)["status"] == "down"
