"""The project's settings, plus the benchmark-only URLs (a bare view to compare against)."""

from citedesmetiers.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
