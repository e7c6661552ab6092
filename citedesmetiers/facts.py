"""The shape shared by every app's `stats.py`: anonymous facts about one site-day."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Fact:
    metric: str
    key: str
    value: int


def key(**dims) -> str:
    """A stable breakdown key: "a=1|b=x", dimensions sorted by name."""
    return "|".join(f"{name}={dims[name]}" for name in sorted(dims))


def parse_key(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split("|") if part)


def facts_from(metric: str, counter: Counter) -> list[Fact]:
    return [Fact(metric, k, int(v)) for k, v in counter.items() if v]
