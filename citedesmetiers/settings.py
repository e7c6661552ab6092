"""Settings for a Cité des métiers deployment, read from the environment.

Every variable is listed in `.env.example` and in the README. A bad value stops start-up with an
`ImproperlyConfigured` naming the variable, instead of a surprise at the first request.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var")


# --- small typed readers that fail loudly ------------------------------------------------------


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, "")
    if value == "":
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false, 1/0), got {value!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}.")
    return number


def env_email(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise ImproperlyConfigured(
                f"{name} must be an e-mail address, got {value!r}."
            ) from None
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    if value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, default: str | None, *, schemes: set[str]) -> str | None:
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    scheme = urlparse(value).scheme
    if scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name} must be a URL with one of: {allowed}; got {scheme!r}.")
    return value


def env_time_zone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name} must be an IANA time zone, got {value!r}.") from None
    return value


# --- core ---------------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-only-for-debug" if DEBUG else None)
if not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters when DEBUG is off.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
for origin in CSRF_TRUSTED_ORIGINS:
    if urlparse(origin).scheme not in {"http", "https"}:
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS entries must start with http:// or https://, got {origin!r}."
        )

INSTALLED_APPS = [
    "citedesmetiers",
    "reception",
    "appointments",
    "counselling",
    "resources",
    "events",
    "feedback",
    "figures",
    "sitepage",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "template_partials",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "citedesmetiers.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "citedesmetiers.middleware.LanguageFromLinkMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "citedesmetiers.middleware.RejectNulMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "citedesmetiers.middleware.RequireMfaMiddleware",
]

ROOT_URLCONF = "citedesmetiers.urls"
WSGI_APPLICATION = "citedesmetiers.wsgi.application"
AUTH_USER_MODEL = "citedesmetiers.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "citedesmetiers.context_processors.staff",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------------

DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
    schemes={"sqlite", "postgres", "postgresql", "pgsql"},
)
# Persistent connections: measured here, reconnecting on each request costs 3–4× the throughput.
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 600)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=True
    )
}
DATABASE_IS_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
# DATABASE_URL names PgBouncer in transaction mode: each transaction may run on another server
# connection, so nothing may outlive one. psycopg must not prepare statements (a prepared name
# lives on one server connection), nor `.iterator()` open server-side cursors (they are held
# across statements). The app keeps no other session state: no advisory lock, no `SET` outside a
# transaction, no LISTEN (tests/test_pgbouncer.py runs it through a real PgBouncer).
DATABASE_POOLED = env_bool("DATABASE_POOLED", False)
# An optional read replica of the primary: the dashboard's and the reports' reads go to it
# (citedesmetiers/replica.py). In the tests it is the primary itself (MIRROR).
DATABASE_REPLICA_URL = env_url(
    "DATABASE_REPLICA_URL", "", schemes={"postgres", "postgresql", "pgsql", "sqlite"}
)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=True
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["citedesmetiers.replica.ReplicaRouter"]
if DATABASE_POOLED and not DATABASE_IS_SQLITE:
    for _database in DATABASES.values():
        _database.setdefault("OPTIONS", {})["prepare_threshold"] = None
        _database["DISABLE_SERVER_SIDE_CURSORS"] = True
if DATABASE_IS_SQLITE:
    # IMMEDIATE takes the write lock when a transaction starts, so two writers serialise instead of
    # failing with "database is locked" half-way; WAL lets the screens read while someone writes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file (threads of the concurrency and browser tests each open their own connection), one
    # per test run, so two runs on one checkout do not delete each other's database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

# --- cache, Celery ------------------------------------------------------------------------------

REDIS_URL = env_url("REDIS_URL", None, schemes={"redis", "rediss", "unix"})
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "cdm")
if REDIS_URL:
    # Short time-outs: while Redis is away the cache goes on without it (citedesmetiers.cache),
    # and a request must not wait long to learn that.
    _REDIS_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    CACHES = {
        "default": {
            "BACKEND": "citedesmetiers.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": _REDIS_OPTIONS,
        },
        "live": {
            "BACKEND": "citedesmetiers.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{CACHE_KEY_PREFIX}-live",
            "OPTIONS": _REDIS_OPTIONS,
        },
    }
else:
    CACHES = {
        # allauth's login throttling needs a cache shared by every process: the database cache is.
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cdm_cache",
        },
        # The per-site change marks of the live screens: files, so a poll never opens the database.
        "live": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "live"),
        },
    }


def _redis_broker_default(url: str) -> str:
    # The broker takes the next Redis database after the cache's, so clearing the cache (FLUSHDB)
    # never wipes queued tasks.
    parsed = urlparse(url)
    db = parsed.path.lstrip("/") or "0"
    if not db.isdigit():
        raise ImproperlyConfigured(f"REDIS_URL must end with a database number, got {url!r}.")
    return parsed._replace(path=f"/{(int(db) + 1) % 16}").geturl()


CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL",
    _redis_broker_default(REDIS_URL) if REDIS_URL else "filesystem://",
    schemes={"redis", "rediss", "amqp", "amqps", "filesystem", "memory", "sqla+sqlite"},
)
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL == "filesystem://":
    # The embedded default: a real broker in folders under var/, so `make run` needs no server.
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("out", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # Where the exchanges' bindings are kept (kombu's default is ./control, in the checkout).
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A killed worker (SIGKILL, out of memory, a node lost) loses no task: a message is acknowledged
# once its task is done, and given back to the broker if the process running it dies, so another
# worker runs it again. Each worker process takes one message at a time (no prefetched message
# dies with it). That is safe because every task of the project may run twice:
# - the outbox drain claims each message under a lease (work done at least once, never lost);
# - a report run is taken over by the next delivery (`figures.report_runs.make_report`);
# - a catalogue import or check is claimed by its status: a second delivery finds it taken and
#   returns, and the stale-job sweep undoes an import whose worker died;
# - the beat jobs (day close, aggregation and purge, reminders, contact purges, missing
#   reports, forgotten searches, import sweep) are written to be run again at each tick.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Reports run in a queue of their own, so a long PDF never delays reminders.
CELERY_TASK_ROUTES = {
    "figures.generate_report": {"queue": "reports"},
    # Its name before it moved into `figures`, kept for one release (see figures/tasks.py).
    "citedesmetiers.tasks.generate_report": {"queue": "reports"},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
# The one beat schedule of the project. Each app's jobs are safe to run twice.
CELERY_BEAT_SCHEDULE = {
    # E-mails and tasks that must not be lost wait in the outbox table until a drain does them.
    "outbox-drain": {
        "task": "citedesmetiers.outbox.drain",
        "schedule": crontab(minute="*"),
    },
    "reception-close-days": {
        "task": "figures.close_finished_days",
        "schedule": crontab(minute="*/15"),
    },
    "events-send-reminders": {
        "task": "events.tasks.send_reminders",
        "schedule": crontab(minute="*/10"),
    },
    "appointments-send-reminders": {
        "task": "appointments.tasks.send_reminders",
        "schedule": crontab(minute="*/10"),
    },
    "statistics-aggregate": {
        "task": "figures.aggregate_and_purge",
        "schedule": crontab(hour=2, minute=15),
    },
    # Daily, not only on the 1st: a month missed while the server was down is made the next day.
    "reports-missing": {
        "task": "figures.generate_missing_reports",
        "schedule": crontab(hour=4, minute=0),
    },
    "resources-forget-searches": {
        "task": "resources.tasks.forget_searches",
        "schedule": crontab(hour=2, minute=45),
    },
    "resources-sweep-imports": {
        "task": "resources.tasks.sweep_imports",
        "schedule": crontab(minute="*/5"),
    },
    "events-purge-contacts": {
        "task": "events.tasks.purge_contacts",
        "schedule": crontab(hour=3, minute=30),
    },
    # Hourly, not daily: the visitor is told the day their contact is erased, and one ended at
    # 17:00 is erased by 18:00 the day after, not at night a day later. Also says the no-shows.
    "appointments-purge-contacts": {
        "task": "appointments.tasks.purge_contacts",
        "schedule": crontab(minute=40),
    },
}

# --- auth, allauth --------------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "citedesmetiers.auth_backends.ModelBackend",
    "citedesmetiers.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "staff_home"
LOGOUT_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "citedesmetiers.accounts.StaffAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Cité des métiers")
# A code typed in the last seconds of its 30-second step reaches the server in the next one: one
# step either side is accepted (RFC 6238 §5.2), and allauth keeps each code from being used twice
# over the whole window.
MFA_TOTP_TOLERANCE = 1
# Managers and superusers must enrol in TOTP; demo accounts are spared while DEBUG is on.
MFA_REQUIRED_FOR_DEMO = env_bool("MFA_REQUIRED_FOR_DEMO", not DEBUG)

# Staff sessions end after this much inactivity (shared tablets, open desks), and a working day
# after the login whatever the activity (citedesmetiers.sessions).
SESSION_ENGINE = "citedesmetiers.sessions"
# With Redis, sessions are read from it and written through to the database (which keeps them
# across a Redis restart): a staff request then never queries the session table.
SESSION_IN_CACHE = bool(REDIS_URL)
SESSION_COOKIE_AGE = env_int("STAFF_SESSION_MINUTES", 4 * 60, minimum=5) * 60
MAX_SESSION_HOURS = 12
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- security -------------------------------------------------------------------------------------

SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# How many proxies of ours stand in front of the application, each appending the address it saw
# to X-Forwarded-For: the client's address is read that many entries from the right (0: the
# peer's own address; 1 behind the one TLS proxy of docker-compose.yml).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# No inline script and no eval: htmx is configured by a <meta> tag and loaded from static/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- i18n -----------------------------------------------------------------------------------------

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "fr")
LANGUAGES = [
    ("fr", _("French")),
    ("en", _("English")),
    ("it", _("Italian")),
    ("es", _("Spanish")),
    ("pt", _("Portuguese")),
]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"LANGUAGE_CODE must be one of {', '.join(dict(LANGUAGES))}, got {LANGUAGE_CODE!r}."
    )
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_time_zone("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- static, media --------------------------------------------------------------------------------

STATIC_URL = "/static/"
# Development and tests: find static files as they are (no scan of STATIC_ROOT at each start).
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- e-mail ---------------------------------------------------------------------------------------

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# Seconds a mail server may take to answer: the outbox's drain gives up and tries again later.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true.")
# The public address of the deployment, for links in e-mails (sent by workers, outside a request).
# Unset, it is the development server's: `PORT=8123 make run` serves, and links to, port 8123.
PORT = env_int("PORT", 8000, minimum=1)
if PORT > 65535:
    raise ImproperlyConfigured(f"PORT must be at most 65535, got {PORT}.")
SITE_URL = env_url("SITE_URL", f"http://127.0.0.1:{PORT}", schemes={"http", "https"})
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Cité des métiers <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- the product ----------------------------------------------------------------------------------

# Live screens poll; an unchanged poll is answered from the cache without the database.
LIVE_POLL_SECONDS = env_int("LIVE_POLL_SECONDS", 2, minimum=1)
# A call fills the waiting-room screen for at least this many seconds, side by side with the
# other calls of the moment, before the screen goes back to what it shows between calls.
DISPLAY_CALL_SECONDS = env_int("DISPLAY_CALL_SECONDS", 20, minimum=1)
# Public catalogue terminals return to their home page (and forget the search) when left alone:
# after KIOSK_IDLE_SECONDS without a touch they offer to continue, and restart if nobody answers
# within KIOSK_WARNING_SECONDS (20 at least: the time WCAG 2.2.1 gives to ask for more).
KIOSK_IDLE_SECONDS = env_int("KIOSK_IDLE_SECONDS", 90, minimum=10)
KIOSK_WARNING_SECONDS = env_int("KIOSK_WARNING_SECONDS", 20, minimum=20)
# Where the accessibility statement (/accessibility/) asks people to report a problem, besides
# the reception desk; empty: the reception desk only.
ACCESSIBILITY_CONTACT = env_email("ACCESSIBILITY_CONTACT", "")
# Raw visits and interviews are deleted this many days after they were rolled into daily figures.
RAW_RETENTION_DAYS = env_int("RAW_RETENTION_DAYS", 30, minimum=1)
# A proof of attendance can be checked (`/verify/`) for this many days after the visit.
PROOF_RETENTION_DAYS = env_int("PROOF_RETENTION_DAYS", 366, minimum=1)
# Contact data of event registrations is erased this many days after the event.
EVENT_CONTACT_RETENTION_DAYS = env_int("EVENT_CONTACT_RETENTION_DAYS", 7)
# An appointment's pseudonym and contact are erased this many days after its slot.
APPOINTMENT_CONTACT_RETENTION_DAYS = env_int("APPOINTMENT_CONTACT_RETENTION_DAYS", 1)
# An on-site visitor more than this many minutes late for an appointment joins the walk-in queue.
APPOINTMENT_LATE_MINUTES = env_int("APPOINTMENT_LATE_MINUTES", 15)
# Online registrations allowed per address (IP) per hour, against spam; also what one network
# may take of one event in an hour (events/guard.py).
EVENT_REGISTRATIONS_PER_HOUR = env_int("EVENT_REGISTRATIONS_PER_HOUR", 10, minimum=1)
# The words of catalogue searches that found nothing are forgotten after this many days.
SEARCH_QUERY_RETENTION_DAYS = env_int("SEARCH_QUERY_RETENTION_DAYS", 90, minimum=1)
# Online registrations allowed per network (/24, IPv6 /48) per hour, all events together.
EVENT_REGISTRATIONS_PER_NETWORK_PER_HOUR = env_int(
    "EVENT_REGISTRATIONS_PER_NETWORK_PER_HOUR", 30, minimum=1
)
# Registrations a network makes in an hour before the automatic proof-of-work check is asked
# (it is also asked once an event is nearly full).
EVENT_CHALLENGE_AFTER = env_int("EVENT_CHALLENGE_AFTER", 3)
# The check's difficulty: the largest number a browser may have to try (half of it on average;
# 100000 takes a phone one to three seconds). 0 turns the check off.
EVENT_CHALLENGE_DIFFICULTY = env_int("EVENT_CHALLENGE_DIFFICULTY", 100_000)
# PDFs a visitor prints (proof of attendance, take-away list) are made once and kept; renders
# still needed are limited per hour, per ticket and per client address (see TRUSTED_PROXY_COUNT).
PDF_RENDERS_PER_TICKET = env_int("PDF_RENDERS_PER_TICKET", 10, minimum=1)
PDF_RENDERS_PER_ADDRESS = env_int("PDF_RENDERS_PER_ADDRESS", 60, minimum=1)
# Seconds a monthly report may take to make: past it the run stops and counts as failed.
REPORT_TIME_LIMIT = env_int("REPORT_TIME_LIMIT", 900, minimum=1)
if CELERY_BROKER_URL.startswith("redis"):
    # Redis hands an unacknowledged task to another worker after this long: never while a
    # report may still be rendering (tasks are acknowledged late).
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = max(3600, REPORT_TIME_LIMIT + 600)
# Largest catalogue spreadsheet an information officer may import.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
# A spreadsheet with more rows than this is checked and imported by a worker, not the request.
IMPORT_WORKER_ROWS = env_int("IMPORT_WORKER_ROWS", 2000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

VAR_DIR.mkdir(parents=True, exist_ok=True)
