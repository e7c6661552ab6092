"""Small cells: breakdowns by profile show counts under 5 as “< 5”; when a single cell is hidden,
one more is obscured, so that no hidden count can be worked out from the total; the report's
audiences are shown that way."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.utils import translation

from citedesmetiers.facts import key
from figures import reports
from figures.models import DailyStat
from figures.stats import SMALL_CELL, suppress

HIDDEN = "< 5"


def obscured(shown: dict[str, str], cells: dict[str, int]) -> set[str]:
    """The cells whose exact count is not shown."""
    return {name for name in cells if shown[name] != str(cells[name])}


def possible_values(text: str, limit: int) -> range:
    """What a reader who knows the rules can tell of a cell from what it shows: a hidden cell is
    1 to 4 (zeros are shown), an obscured one “≤ N” is 0 to N."""
    if text == HIDDEN:
        return range(1, SMALL_CELL)
    bound = re.fullmatch(r"≤ (\d+)", text)
    if bound:
        return range(0, min(int(bound[1]), limit) + 1)
    return range(int(text), int(text) + 1)


def recomputable(cells: dict[str, int]) -> set[str]:
    """The hidden cells that the shown cells and the total pin down to a single value."""
    shown = suppress(cells)
    total = sum(cells.values())
    names = list(cells)
    options = [possible_values(shown[name], total) for name in names]
    seen = {name: set() for name in names}
    for values in itertools.product(*options):
        if sum(values) == total:
            for name, value in zip(names, values, strict=True):
                seen[name].add(value)
    return {name for name in obscured(shown, cells) if len(seen[name]) == 1}


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_counts_under_five_are_hidden(n):
    shown = suppress({"u18": n, "18-25": 31, "26-44": 40})
    assert shown["u18"] == HIDDEN


@pytest.mark.parametrize("n", [5, 6, 12, 300])
def test_counts_of_five_and_more_are_shown(n):
    assert suppress({"a": n, "b": 31, "c": 40}) == {"a": str(n), "b": "31", "c": "40"}


def test_zeros_are_shown_as_zero_and_hide_nothing():
    assert suppress({"u18": 0, "18-25": 12, "26-44": 40}) == {
        "u18": "0",
        "18-25": "12",
        "26-44": "40",
    }


def test_an_empty_breakdown_stays_empty():
    assert suppress({}) == {}


def test_a_single_hidden_cell_hides_another_one_too():
    cells = {"u18": 3, "18-25": 12, "26-44": 40, "45-54": 0}

    shown = suppress(cells)

    assert shown["u18"] == HIDDEN
    assert shown["45-54"] == "0"
    assert obscured(shown, cells) == {"u18", "18-25"}  # the smallest other cell
    assert shown["26-44"] == "40"


def test_two_hidden_cells_need_no_other():
    cells = {"u18": 2, "55+": 3, "18-25": 12, "26-44": 40}

    shown = suppress(cells)

    assert shown == {"u18": HIDDEN, "55+": HIDDEN, "18-25": "12", "26-44": "40"}


def test_a_single_hidden_cell_cannot_be_worked_out_from_the_total():
    cells = {"u18": 3, "18-25": 12, "26-44": 40}
    assert recomputable(cells) == set()


def test_a_hidden_four_beside_a_round_ten_is_not_given_away():
    # Shown: “< 5”, “≤ 10”, 40, and the total 54. The two obscured cells add up to 14: with the
    # first at most 4 and the second at most 10, they can only be 4 and 10.
    cells = {"u18": 4, "18-25": 10, "26-44": 40}
    assert recomputable(cells) == set(), suppress(cells)


def test_no_single_hidden_cell_can_be_worked_out_from_the_total_whatever_the_counts():
    # Every table of three cells up to 25: wherever exactly one cell is under 5, knowing the
    # total and the cells shown must leave each obscured cell at least two possible values.
    leaks = []
    for counts in itertools.product(range(26), repeat=3):
        cells = dict(zip(("a", "b", "c"), counts, strict=True))
        if sum(0 < n < SMALL_CELL for n in counts) == 1 and any(n >= SMALL_CELL for n in counts):
            found = recomputable(cells)
            if found:
                leaks.append((counts, suppress(cells), sorted(found)))
    assert leaks == [], f"{len(leaks)} tables give a hidden count away, e.g. {leaks[:3]}"


def test_the_report_shows_audiences_suppressed(centre):
    month = dt.date(2025, 2, 1)
    answers = {
        "profile_age": {"u18": 3, "18-25": 21, "26-44": 40, "45-54": 0, "-": 36},
        "profile_situation": {"student": 2, "retired": 1, "job_seeker": 60, "-": 37},
        "profile_area": {"town": 70, "metro": 30},
    }
    DailyStat.objects.bulk_create(
        DailyStat(
            site=centre.alpha,
            day=month + dt.timedelta(days=i),
            source="reception",
            metric=metric,
            key=key(v=value),
            value=n,
        )
        for metric, counts in answers.items()
        for i, (value, n) in enumerate(counts.items())
        if n
    )

    with translation.override("en"):
        audiences = reports.build(centre.alpha, month)["audiences"]
        shown = {str(title): {str(k): v for k, v in rows} for title, rows in audiences.items()}

    assert shown == {
        "Age": {
            "26 to 44": "40",
            "prefer not to say": "36",
            "18 to 25": "≤ 30",  # obscured so that “under 18” cannot be worked out
            "under 18": HIDDEN,
        },
        "Situation": {
            "job seeker": "60",
            "prefer not to say": "37",
            "pupil or student": HIDDEN,
            "retired": HIDDEN,
        },
        "Lives in": {"this town": "70", "the surrounding area": "30"},
    }
