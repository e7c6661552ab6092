"""Settings come from the environment; a bad value stops start-up naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k9#Qe2!vT7rLw4@Zp1^Hs6&Nb3*Ym8(Xc5)Ud0-Fj2+Gi7=Ao4_Kt9%Ry6$Wq3",
    "SECURE_HSTS_PRELOAD": "true",
    "ALLOWED_HOSTS": "cite.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://cite.example.org",
    "DATABASE_URL": "postgres://cdm:cdm@db.example.org:5432/cdm",
    "REDIS_URL": "redis://redis.example.org:6379/0",
    "EMAIL_HOST": "smtp.example.org",
}


def run_python(
    args: list[str], env: dict[str, str], cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    """Python with `args`, in an environment cleared of this run's Django variables, plus `env`."""
    clean = {
        k: v for k, v in os.environ.items() if k not in PRODUCTION and not k.startswith("EMAIL")
    }
    for name in (
        "CELERY_BROKER_URL",
        "LANGUAGE_CODE",
        "TIME_ZONE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "DJANGO_SETTINGS_MODULE",
        "PORT",
        "SITE_URL",
    ):
        clean.pop(name, None)
    clean.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=60
    )


def run_django(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    return run_python(["-c", code], {**env, "DJANGO_SETTINGS_MODULE": "citedesmetiers.settings"})


def load_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_django(
        env,
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'], settings.CACHES['default']"
        "['BACKEND'], settings.CELERY_BROKER_URL, settings.TIME_ZONE, "
        "settings.LANGUAGE_CODE)",
    )


def test_it_defaults_to_sqlite_local_broker_and_database_cache():
    result = load_settings({"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    engine, cache, broker, tz, language = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert cache == "django.core.cache.backends.db.DatabaseCache"
    assert broker == "filesystem://"
    assert (tz, language) == ("Europe/Paris", "fr")


@pytest.mark.parametrize("pooled", ["true", "false"])
def test_behind_pgbouncer_nothing_outlives_a_transaction(pooled):
    """DATABASE_POOLED: psycopg prepares no statement and `.iterator()` opens no server-side
    cursor (both live on one server connection; PgBouncer may hand the next transaction
    another). Django's cursors bind on the client and prepare nothing today: the setting keeps
    it so whatever the driver's defaults become."""
    result = run_django(
        {**PRODUCTION, "DATABASE_POOLED": pooled},
        "import django; django.setup(); from django.conf import settings; "
        "db = settings.DATABASES['default']; "
        "print('prepare_threshold' in db.get('OPTIONS', {}), "
        "db.get('OPTIONS', {}).get('prepare_threshold'), "
        "db.get('DISABLE_SERVER_SIDE_CURSORS', False))",
    )
    assert result.returncode == 0, result.stderr
    if pooled == "true":
        assert result.stdout.split() == ["True", "None", "True"]
    else:
        assert result.stdout.split() == ["False", "None", "False"]


def test_the_embedded_broker_writes_only_under_var_dir(tmp_path):
    """A task queued on the filesystem broker lands under VAR_DIR, and nothing is written in the
    working directory (kombu's own default would make a `control` folder there)."""
    var = tmp_path / "var"
    work = tmp_path / "work"
    work.mkdir()
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); import django; django.setup(); "
        "from citedesmetiers.celery import app; "
        "app.send_task('events.tasks.purge_contacts')"
    )
    env = {
        "DEBUG": "true",
        "VAR_DIR": str(var),
        "DJANGO_SETTINGS_MODULE": "citedesmetiers.settings",
    }

    result = run_python(["-c", code], env, cwd=work)

    assert result.returncode == 0, result.stderr
    assert list(work.iterdir()) == []
    assert len(list((var / "broker" / "out").iterdir())) == 1


def test_source_commands_run_without_a_secret_key_and_others_do_not():
    checked = run_python(["manage.py", "makemigrations", "--check", "--dry-run"], {})
    # The models do not change with the settings: a centre in English has the same migrations.
    in_english = run_python(
        ["manage.py", "makemigrations", "--check", "--dry-run"], {"LANGUAGE_CODE": "en"}
    )
    served = run_python(["manage.py", "check"], {})

    for result in (checked, in_english):
        assert result.returncode == 0, result.stdout + result.stderr
        assert "No changes detected" in result.stdout
    assert served.returncode != 0
    assert "SECRET_KEY must be set" in served.stderr


def test_it_uses_redis_and_postgres_when_given():
    result = load_settings(PRODUCTION)
    assert result.returncode == 0, result.stderr
    engine, cache, broker, _tz, _lang = result.stdout.split()
    assert engine == "django.db.backends.postgresql"
    assert cache == "citedesmetiers.cache.RedisCache"
    # The broker uses the next Redis database, so clearing the cache never drops queued tasks.
    assert broker == "redis://redis.example.org:6379/1"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "false"}, "SECRET_KEY must be set"),
        ({"DEBUG": "false", "SECRET_KEY": "short"}, "SECRET_KEY must be at least 50"),
        ({"DEBUG": "maybe"}, "DEBUG must be a boolean"),
        ({"DEBUG": "true", "DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must be a URL"),
        ({"DEBUG": "true", "REDIS_URL": "http://x"}, "REDIS_URL must be a URL"),
        ({"DEBUG": "true", "TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE must be an IANA time zone"),
        ({"DEBUG": "true", "LANGUAGE_CODE": "de"}, "LANGUAGE_CODE must be one of"),
        ({"DEBUG": "true", "EMAIL_PORT": "twenty-five"}, "EMAIL_PORT must be an integer"),
        ({"DEBUG": "true", "CSRF_TRUSTED_ORIGINS": "cite.example.org"}, "CSRF_TRUSTED_ORIGINS"),
        ({"DEBUG": "true", "STAFF_SESSION_MINUTES": "1"}, "STAFF_SESSION_MINUTES must be at least"),
        ({"DEBUG": "true", "EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, "cannot both be true"),
        ({"DEBUG": "true", "PORT": "eighty"}, "PORT must be an integer"),
        ({"DEBUG": "true", "PORT": "70000"}, "PORT must be at most 65535"),
        ({"DEBUG": "true", "KIOSK_WARNING_SECONDS": "5"}, "KIOSK_WARNING_SECONDS must be at"),
        ({"DEBUG": "true", "ACCESSIBILITY_CONTACT": "reception"}, "ACCESSIBILITY_CONTACT must be"),
    ],
)
def test_it_refuses_bad_values_naming_the_variable(env, message):
    result = load_settings(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def site_url(env: dict[str, str]) -> str:
    result = run_django(
        env,
        "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)",
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_site_url_follows_the_port_when_it_is_not_set():
    """`PORT=8123 make run` serves on 8123: the links of e-mails sent by its workers too."""
    assert site_url({"DEBUG": "true"}) == "http://127.0.0.1:8000"
    assert site_url({"DEBUG": "true", "PORT": "8123"}) == "http://127.0.0.1:8123"
    assert site_url({**PRODUCTION, "PORT": "8123"}) == "http://127.0.0.1:8123"
    # Set, it is the public address whatever the port the server listens on.
    given = {"DEBUG": "true", "PORT": "8123", "SITE_URL": "https://cite.example.org"}
    assert site_url(given) == "https://cite.example.org"


def port_seen_by_make_recipes(*arguments: str) -> str:
    """What a recipe of the Makefile (like `run`'s web server and workers) finds in `$PORT`."""
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", "-", "show-port", *arguments],
        input=(ROOT / "Makefile").read_text() + '\nshow-port:\n\t@echo "$$PORT"\n',
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "PORT"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_make_run_gives_its_port_to_every_process_it_starts():
    assert port_seen_by_make_recipes() == "8000"
    assert port_seen_by_make_recipes("PORT=8123") == "8123"


def test_check_deploy_is_clean_with_production_variables():
    result = run_django(
        PRODUCTION,
        "import django, sys; django.setup(); from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_cookies_are_secure_and_passwords_long():
    result = run_django(
        PRODUCTION,
        "import django; django.setup(); from django.conf import settings; "
        "from django.contrib.auth.password_validation import validate_password as v; "
        "from django.core.exceptions import ValidationError as E;\n"
        "print(settings.LANGUAGE_COOKIE_SECURE, settings.SESSION_COOKIE_SECURE, "
        "settings.CSRF_COOKIE_SECURE)\n"
        "try:\n v('Xk7#qL2!vRt')\nexcept E:\n print('short refused')\n"
        "v('Xk7#qL2!vRt9')\nprint('twelve taken')",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["True True True", "short refused", "twelve taken"]


def test_every_page_refuses_the_browser_features_it_does_not_use(client, db):
    for path in ("/", "/healthz", "/catalogue/", "/accounts/login/"):
        policy = client.get(path).headers["Permissions-Policy"]
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert f"{feature}=()" in policy
