"""tradescan.report.validation: a finalist's verdict from its guard rows."""

from __future__ import annotations

import pandas as pd

from tradescan.report.validation import series_values, verdict


def _rows(*rows: tuple[str, bool, bool]) -> pd.DataFrame:
    return pd.DataFrame([{"guard": g, "passed": p, "critical": c} for g, p, c in rows])


def test_prod_ready_when_every_critical_guard_passes_even_if_a_soft_one_fails() -> None:
    result = verdict(_rows(("wfe", True, True), ("dsr", True, True), ("top10_share", False, False)))
    assert result.prod_ready and (result.passed, result.total) == (2, 3)
    assert result.label() == "PROD-READY (2/3): failed top10_share (soft)"


def test_a_failed_critical_guard_blocks_and_is_named() -> None:
    result = verdict(_rows(("wfe", False, True), ("dsr", True, True), ("pbo", False, True)))
    assert not result.prod_ready
    assert result.label() == "NOT READY (1/3): failed wfe, pbo"


def test_no_guards_is_never_prod_ready() -> None:
    result = verdict(pd.DataFrame(columns=["guard", "passed", "critical"]))
    assert not result.prod_ready and result.label() == "NOT READY (0/0)"


def test_series_values_are_ordered_by_index() -> None:
    series = pd.DataFrame({"symbol": ["X"] * 3, "rank": [1] * 3, "series": ["s"] * 3, "i": [2, 0, 1],
                           "value": [30.0, 10.0, 20.0]})
    assert series_values(series, "X", 1, "s").tolist() == [10.0, 20.0, 30.0]
    assert series_values(series, "X", 2, "s").tolist() == []


def test_the_guard_summary_reads_as_a_sentence_not_a_dict() -> None:
    from tradescan.report.document import guard_summary_text

    summary = {"dsr": 0.000341, "pbo": 0.4451, "wfe": -12.13, "n_trials": 100, "n_eff_trials": 40.807,
               "seconds": {"walk_forward": 2.5, "total": 9.46}, "not_reported": {"mc2 rank 3": "no trades"},
               "finalists": [{"rank": 1}]}
    assert guard_summary_text(summary) == ("Guard stage: DSR 0.000341, PBO 0.445, WFE -12.1 over 100 trials "
                                           "(effective 40.8); 9.5 s. Not reported: mc2 rank 3 (no trades).")
    empty = "Guard stage: DSR n/a, PBO n/a, WFE n/a over n/a trials (effective n/a)."
    assert guard_summary_text({"dsr": None}) == empty
