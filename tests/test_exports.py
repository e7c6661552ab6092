"""One rule for every spreadsheet we write: a text cell that would run as a formula is inert."""

import pytest

from citedesmetiers.exports import neutralise


@pytest.mark.parametrize("text", ["=HYPERLINK(1)", "+33 1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_run_is_made_inert(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["", "CV", "2 déc.", 12, None, 3.5])
def test_anything_else_is_left_as_it_is(value):
    assert neutralise(value) == value
