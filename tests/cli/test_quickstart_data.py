"""``quickstart``'s data step (``ensure_data``): it makes what is absent and never replaces what is there.

The measured case: the quickstart overwrote a user's own EURUSD/GBPUSD/USDJPY H1 bars with synthetic
ones whenever the manifest was unreadable or disagreed with a file, because every exception counted
as "absent".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tradescan.cli import main
from tradescan.cli.quickstart_cmd import QUICKSTART_BARS, QUICKSTART_DIRECTIVE, ensure_data
from tradescan.data import list_datasets, synthesize, write_dataset
from tradescan.data.store import parquet_bytes
from tradescan.directive import load_directive
from tradescan.errors import DataError


@pytest.fixture
def own_eurusd(tmp_path: Path) -> Path:
    """A data folder holding the user's own 900 EURUSD H1 bars (not the quickstart's)."""
    folder = tmp_path / "data"
    write_dataset(synthesize("EURUSD", "H1", 900, seed=5), "EURUSD", "H1", folder, source="my own bars")
    return folder


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_only_absent_symbols_are_synthesised(own_eurusd: Path):
    before = (own_eurusd / "EURUSD" / "H1.parquet").read_bytes()
    written = ensure_data(load_directive(QUICKSTART_DIRECTIVE), own_eurusd, quiet=True)
    assert written == ["GBPUSD", "USDJPY"]
    assert (own_eurusd / "EURUSD" / "H1.parquet").read_bytes() == before
    listing = list_datasets(own_eurusd).set_index("symbol")
    assert listing["rows"].to_dict() == {"EURUSD": 900, "GBPUSD": QUICKSTART_BARS, "USDJPY": QUICKSTART_BARS}
    assert listing.loc["EURUSD", "source"] == "frame my own bars"
    assert listing.loc["GBPUSD", "source"] == f"synthetic seed=42 bars={QUICKSTART_BARS} start=2020-01-01"
    assert ensure_data(load_directive(QUICKSTART_DIRECTIVE), own_eurusd, quiet=True) == []  # a second run: nothing


def test_an_unreadable_manifest_stops_it_and_nothing_is_written(own_eurusd: Path):
    (own_eurusd / "manifest.json").write_text('{"version": 2, "datasets": {"EURUSD/H1": {"rows": 9')
    before = files(own_eurusd)
    with pytest.raises(DataError, match=r"data/manifest\.json: the data manifest is not valid JSON"):
        ensure_data(load_directive(QUICKSTART_DIRECTIVE), own_eurusd, quiet=True)
    assert files(own_eurusd) == before


def test_a_dataset_that_disagrees_with_the_manifest_stops_it(own_eurusd: Path):
    dataset = own_eurusd / "EURUSD" / "H1.parquet"
    dataset.write_bytes(parquet_bytes(synthesize("EURUSD", "H1", 899, seed=5)))
    before = files(own_eurusd)
    with pytest.raises(DataError, match=r"EURUSD/H1\.parquet changed since it was written"):
        ensure_data(load_directive(QUICKSTART_DIRECTIVE), own_eurusd, quiet=True)
    assert files(own_eurusd) == before


def test_the_command_reports_it_on_one_line(own_eurusd: Path, capsys: pytest.CaptureFixture[str]):
    (own_eurusd / "manifest.json").write_text("")
    code = main(["quickstart", "--data-dir", str(own_eurusd), "--results-dir", str(own_eurusd.parent / "results")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("tradescan: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert f"{own_eurusd / 'manifest.json'}: the data manifest is not valid JSON" in err
    assert not (own_eurusd / "GBPUSD").exists()
