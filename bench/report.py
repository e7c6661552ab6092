"""The one line a benchmark prints: `BENCH <name> <key=value …> ratio=<x> target=<y> PASS|FAIL`,
with the share of CPU time the hypervisor took meanwhile."""

from __future__ import annotations

import math
from collections.abc import Mapping


def _format(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value).replace(" ", "_") or "-"


# --- the machine's own load ---------------------------------------------------------------------

_cpu_at_start: tuple[int, int] | None = None


def _cpu_times() -> tuple[int, int] | None:
    """(steal, total) jiffies of all CPUs since boot, from /proc/stat (Linux); None elsewhere."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    steal = fields[7] if len(fields) > 7 else 0
    # guest time is already counted in user time
    return steal, sum(fields[:8])


def start_steal_clock() -> None:
    """Mark the start of a benchmark for the `steal=` figure of its line."""
    global _cpu_at_start
    _cpu_at_start = _cpu_times()


def _steal_percent() -> float | None:
    """Share of CPU time the hypervisor took from this machine since `start_steal_clock()`: on a
    shared virtual machine, a high figure explains a noisy ratio."""
    now = _cpu_times()
    if _cpu_at_start is None or now is None or now[1] <= _cpu_at_start[1]:
        return None
    return 100 * (now[0] - _cpu_at_start[0]) / (now[1] - _cpu_at_start[1])


def report(
    name: str,
    ratio: float,
    target: float,
    extra: Mapping[str, object],
    higher_is_better: bool = True,
    *,
    valid: bool = True,
    judged: str | None = None,
) -> bool:
    """Print `BENCH <name> <key=value …> ratio=<x.xx> target=<y> PASS|FAIL`; return if it passed.

    `valid=False` (e.g. the load met errors) fails the benchmark whatever the ratio. `judged`:
    the key of the `extra` value held against `target` when it is not the ratio itself (such as
    call_next's `of_ceiling`); the line then says so (`judged=<key>`).
    """
    figure = ratio if judged is None else float(extra[judged])
    if judged is not None:
        extra = {**extra, "judged": judged}
    if math.isnan(figure):
        passed = False
    else:
        passed = figure >= target if higher_is_better else figure <= target
    passed = passed and valid
    steal = _steal_percent()
    if steal is not None:
        extra = {**extra, "steal_pct": round(steal, 1)}
    pairs = " ".join(f"{key}={_format(value)}" for key, value in extra.items())
    line = (
        f"BENCH {name} {pairs} ratio={ratio:.2f} target={target:g} {'PASS' if passed else 'FAIL'}"
    )
    print(" ".join(line.split()), flush=True)
    return passed
