"""The documented deployment, read as files (no Docker engine runs here): every setting is listed
where an operator looks for it, compose protects Redis and passes the proxy's client address, and
the cache never writes a key that Redis's memory limit may not evict."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.cache import caches

from citedesmetiers.cache import LONGEST_TIMEOUT, RedisCache
from tests.test_settings import ROOT

SETTINGS = (ROOT / "citedesmetiers" / "settings.py").read_text()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
README = (ROOT / "README.md").read_text()
# Read by settings.py through os.environ directly, not the typed readers.
OTHER_VARIABLES = {"VAR_DIR", "DATABASE_URL", "CELERY_BROKER_URL"}


def setting_variables() -> set[str]:
    return set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', SETTINGS)) | OTHER_VARIABLES


@pytest.mark.parametrize("variable", sorted(setting_variables()))
def test_every_variable_is_documented_in_the_readme_and_the_example(variable):
    assert f"`{variable}`" in README, f"{variable} is missing from the README's table"
    assert re.search(rf"^#? ?{variable}=", ENV_EXAMPLE, re.M), f"{variable} not in .env.example"


def test_compose_passes_every_variable_of_the_settings():
    environment = COMPOSE["x-app"]["environment"]
    debugging_only = {"CELERY_TASK_ALWAYS_EAGER"}
    # `make run`'s server port: the image's gunicorn always listens on 8000.
    development_only = {"PORT"}
    assert setting_variables() - debugging_only - development_only - set(environment) == set()


def test_compose_redis_asks_for_a_password_and_has_a_memory_limit():
    redis = COMPOSE["services"]["redis"]
    command = " ".join(redis["command"])
    assert '--requirepass "$$REDIS_PASSWORD"' in command
    assert "--maxmemory " in command
    assert "--maxmemory-policy volatile-lru" in command
    assert redis["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD")
    environment = COMPOSE["x-app"]["environment"]
    for url in (environment["REDIS_URL"], environment["CELERY_BROKER_URL"]):
        assert url.startswith("redis://:${REDIS_PASSWORD:?")
    assert environment["REDIS_URL"].endswith("/0")
    assert environment["CELERY_BROKER_URL"].endswith("/1")  # never flushed with the cache


def test_compose_reads_the_client_behind_its_proxy():
    assert COMPOSE["x-app"]["environment"]["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"


def test_redis_is_never_published_to_the_host():
    assert "ports" not in COMPOSE["services"]["redis"]


def test_every_cache_key_expires_so_eviction_can_take_it(db):
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.skip("Only Redis evicts; the embedded default has no memory limit (CI runs both).")
    cache.set("forever", "value", None)
    cache.add("added-forever", "value", None)
    client = cache._cache.get_client()
    for key in ("forever", "added-forever"):
        ttl = client.ttl(cache.make_and_validate_key(key))
        assert 0 < ttl <= LONGEST_TIMEOUT


def test_the_lock_pins_every_dependency_within_its_range():
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pinned[name.lower().replace("_", "-")] = version
    for spec in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        requirement = Requirement(spec)
        name = requirement.name.lower().replace("_", "-")
        assert name in pinned, f"{name} is not in requirements.lock (make lock)"
        assert requirement.specifier.contains(pinned[name]), f"{name}=={pinned[name]} vs {spec}"


def test_make_and_the_image_install_with_the_lock():
    assert "-c requirements.lock" in (ROOT / "Makefile").read_text()
    assert "-c requirements.lock" in (ROOT / "Dockerfile").read_text()
