"""Loaded before Django's settings (`-p tests.worker_isolation` in pyproject.toml's addopts): under
pytest-xdist (`make test` runs the suite on every core), each worker gets a var/ folder of its own
(the embedded default keeps live marks and the broker in files there) and its own pair of Redis
databases (tests empty the cache), so workers never see each other's state.

Tests run with the development defaults (DEBUG on, console e-mail), in English unless a test asks
for another language, whether the suite runs on every core or in one process (`-n 0`); production
settings are checked separately, in a subprocess, by tests/test_settings.py."""

import os
import re
from pathlib import Path

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("LANGUAGE_CODE", "en")

_worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1…
if _worker:
    _base = Path(os.environ.get("VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
    os.environ["VAR_DIR"] = str(_base / f"xdist-{_worker}")
    _redis = os.environ.get("REDIS_URL")
    if _redis:
        _match = re.fullmatch(r"(.*/)(\d+)", _redis)
        if _match is None:
            raise RuntimeError("REDIS_URL must end with a database number, e.g. /0.")
        _db = int(_match.group(2)) + 2 * (int(_worker.removeprefix("gw")) + 1)
        os.environ["REDIS_URL"] = f"{_match.group(1)}{_db % 16}"
