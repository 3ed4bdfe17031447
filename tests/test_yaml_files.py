"""YAML files are parsed with limits: alias bombs, recursive aliases, size, depth — each a one-line error."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tradescan.errors import ConfigError
from tradescan.yaml_files import MAX_ALIAS_NODES, MAX_DEPTH, MAX_YAML_BYTES, parse_yaml, read_text, read_yaml

REPO = Path(__file__).resolve().parents[1]


def billion_laughs(levels: int = 9) -> str:
    """The classic bomb: 9 levels of 9 aliases each stand for 9**9 (387 million) strings in ~600 bytes."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + f"\nname: *a{levels}\nstrategy: S1_TREND_EMA_ATR_ADX\nsymbols: [EURUSD]\ntimeframe: H1\n"


def _limit_memory() -> None:
    one_gib = 1 << 30
    resource.setrlimit(resource.RLIMIT_AS, (one_gib, one_gib))


def test_a_billion_laughs_directive_fails_fast_within_bounded_memory(tmp_path: Path):
    """Measured: the bomb exhausted memory while the directive's error message was being formatted."""
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(billion_laughs())
    assert bomb.stat().st_size < 700
    script = "import sys; from tradescan.cli import main; sys.exit(main(['preflight', sys.argv[1]]))"
    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-c", script, str(bomb)], capture_output=True, text=True, timeout=120,
        preexec_fn=_limit_memory, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=tmp_path,
    )  # fmt: skip
    elapsed_seconds = time.monotonic() - started
    assert finished.returncode == 2, finished.stderr[-2000:]
    assert finished.stderr == (
        "tradescan: error: bomb.yaml: YAML aliases add more than 10,000 values; an alias bomb? "
        "write the values out instead of nesting aliases\n"
    )
    assert elapsed_seconds < 60


def test_the_expansion_is_counted_exactly():
    # a is 100 values (a sequence of 99 scalars); each alias of it adds 100
    anchor = "a: &a [" + ", ".join(["1"] * 99) + "]\n"
    at_limit = anchor + "b: [" + ", ".join(["*a"] * 100) + "]\n"
    assert parse_yaml(at_limit, label="x")["b"] == [[1] * 99] * 100
    with pytest.raises(ConfigError, match=r"^x: YAML aliases add more than 10,000 values; an alias bomb\?"):
        parse_yaml(anchor + "b: [" + ", ".join(["*a"] * 101) + "]\n", label="x")
    assert MAX_ALIAS_NODES == 10_000


def test_ordinary_anchors_and_merge_keys_still_work():
    document = "base: &base {spread_mult: 1.0, spikes: false}\nA: {<<: *base}\nB: {<<: *base, spread_mult: 1.3}\n"
    assert parse_yaml(document, label="broker.yaml") == {
        "base": {"spread_mult": 1.0, "spikes": False},
        "A": {"spread_mult": 1.0, "spikes": False},
        "B": {"spread_mult": 1.3, "spikes": False},
    }


def test_a_recursive_alias_is_refused():
    with pytest.raises(ConfigError, match=r"^loop\.yaml: a YAML alias refers to a value that contains it"):
        parse_yaml("a: &a [1, *a]\n", label="loop.yaml")


def test_a_file_too_large_is_refused_before_it_is_read_in_full(tmp_path: Path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as stream:
        stream.write(b"a: ")
        stream.truncate(MAX_YAML_BYTES + 10)
    with pytest.raises(ConfigError, match=r"huge\.yaml: larger than 8 MiB, too large for a directive file$"):
        read_text(path, what="directive file")


def test_deep_nesting_is_one_line_not_a_crash():
    """libyaml's C composer recurses: 100,000 brackets crashed the interpreter with a segmentation fault."""
    nested: list[object] = []
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]
    assert parse_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH, label="deep.yaml") == nested
    with pytest.raises(ConfigError, match=r"^deep\.yaml: nested deeper than 100 levels, too deep for a settings file$"):
        parse_yaml("[" * 100_000 + "]" * 100_000, label="deep.yaml")


def test_syntax_errors_name_the_file_and_line(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text("a: [1, 2\nb: 3\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML: .*line 2") as info:
        read_yaml(path, what="directive file")
    assert "\n" not in str(info.value)


def test_more_than_one_document_is_refused():
    with pytest.raises(ConfigError, match=r"^two\.yaml: not valid YAML: expected a single document"):
        parse_yaml("a: 1\n---\nb: 2\n", label="two.yaml")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "params file not found"),
        (lambda p: p.mkdir(), "is a folder; give the path of the params file"),
        (lambda p: p.write_bytes(b"\xff\xfe\x00binary"), "not a text file (the params file must be UTF-8 YAML)"),
    ],
    ids=["missing", "folder", "binary"],
)
def test_unreadable_files_are_one_line(tmp_path: Path, make, message):
    path = tmp_path / "p.yaml"
    make(path)
    with pytest.raises(ConfigError) as info:
        read_yaml(path, what="params file")
    assert str(info.value) == f"{path}: {message}"


def test_empty_documents_are_none():
    assert parse_yaml("", label="x") is None
    assert parse_yaml("# only a comment\n", label="x") is None
