"""Vectorised time parsing for importers: explicit formats, format detection, epoch numbers.

Times are parsed with Arrow's compiled ``strptime`` (about 10x faster than ``pd.to_datetime`` with a
non-ISO format and it never falls back to per-row Python); fractional seconds, which Arrow's strptime
cannot read, are split off and added as integer nanoseconds. Every time is read as UTC: a naive time
is taken to be UTC, a time with an offset is converted to UTC. A cell that does not parse becomes
``NO_TIME``, one that parses to a time outside the store's range (years 1678-2261) becomes
``OUT_OF_RANGE_NS`` — never a value wrapped around by centuries — and its raw text is kept so the
validation message can quote it. Times are parsed in seconds (or the parser's own unit) and brought
to nanoseconds only after the range check.

``local_to_utc`` then converts clock times written in another zone (``data import --tz``): MT4/MT5
exports are in the broker's server time, usually EET/EEST. The rule for the two DST changes:

* the hour that does not exist (clocks jump forward in spring) is an error naming the line: no
  clock in that zone can have written it, so the file is not in that zone;
* the hour that occurs twice (clocks go back in autumn) is placed by bar order (``dst="infer"``,
  the default): in a run of consecutive bars inside the repeated hour, the bars up to the point
  where the clock steps back (a time not after the one before it) are the first pass (summer time),
  the rest the second pass (standard time). An MT4 H1 export has two bars stamped 03:00 that night:
  the first is 00:00 UTC, the second 01:00 UTC. A run in which the clock never steps back (one bar
  of the repeated hour, the other missing) cannot be placed and is an error naming the line, unless
  ``dst="earlier"`` (every repeated time is the first, summer-time instant) or ``dst="later"`` (the
  second, standard-time instant) says which.
"""

from __future__ import annotations

import difflib
import zoneinfo
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tradescan.data.importers.fixed_width import parse_fixed_width
from tradescan.data.quote import quote
from tradescan.data.schema import END_TIME_NS, FIRST_TIME_NS, NO_TIME_NS, OUT_OF_RANGE_NS, ns_in_range
from tradescan.errors import DataError, UnknownNameError

NO_TIME = NO_TIME_NS
ISO8601 = "ISO8601"

# Tried in order on a sample of the column; the first that parses the most values wins, and
# candidates that parse equally well but disagree (day/month order) are an ambiguity error.
CANDIDATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
    "%d.%m.%Y %H:%M:%S.%f",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d %H%M%S",
    "%Y%m%d",
    ISO8601,
)
_SAMPLE_SIZE = 1000
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}

UTC_ZONE = "UTC"
DstRule = Literal["infer", "earlier", "later"]
DST_RULES: tuple[DstRule, ...] = ("infer", "earlier", "later")
_ZONE_EXAMPLES = "an IANA name such as 'Europe/Athens', 'EET' or 'Etc/GMT-2'"

# Epoch units by magnitude of a value around today: seconds ~1.7e9, ms ~1.7e12, us ~1.7e15, ns ~1.7e18.
_EPOCH_UNITS: tuple[tuple[str, float, float, int], ...] = (
    # name, lower bound (inclusive), upper bound (exclusive), microseconds per unit (0 = nanoseconds)
    ("seconds", 0.0, 1e11, 1_000_000),
    ("milliseconds", 1e11, 1e14, 1_000),
    ("microseconds", 1e14, 1e17, 1),
    ("nanoseconds", 1e17, 1e20, 0),
)


def to_arrow_text(text: pd.Series) -> pa.Array | pa.ChunkedArray:
    """Return a pandas text column as an Arrow string array (zero-copy when Arrow-backed)."""
    if not (pd.api.types.is_string_dtype(text) or text.dtype == object):
        text = text.astype(str)
    return pa.array(text, from_pandas=True)


def join_text(left: pd.Series, right: pd.Series) -> pd.Series:
    """Join a date column and a time column with a space (null where either is missing)."""
    left_text, right_text = to_arrow_text(left), to_arrow_text(right)
    right_text = right_text.cast(left_text.type)
    joined = pc.binary_join_element_wise(left_text, right_text, pa.scalar(" ", left_text.type))
    return pd.Series(joined.to_pandas(), index=left.index)


def parse_time_text(text: pd.Series, time_format: str) -> np.ndarray:
    """Parse text times with ``time_format``; return int64 UTC nanoseconds (``NO_TIME`` if unparseable)."""
    if len(text) == 0:
        return np.empty(0, np.int64)
    if time_format == ISO8601:
        parsed = pd.to_datetime(text, format=ISO8601, utc=True, errors="coerce")
        return datetimes_to_ns(parsed)
    arrow_text = to_arrow_text(text)
    fast = parse_fixed_width(arrow_text, time_format)
    if fast is not None:
        return fast
    if time_format.endswith(".%f"):
        return _strptime_with_fraction(arrow_text, time_format[: -len(".%f")])
    return _strptime(arrow_text, time_format)


def datetimes_to_ns(parsed: pd.Series) -> np.ndarray:
    """Return parsed datetimes (any unit) as int64 ns, NaT -> ``NO_TIME``, out of range -> ``OUT_OF_RANGE_NS``.

    pandas may parse into microseconds, which hold any year; numpy's cast to nanoseconds would wrap
    year 1500 into 2084, so the range is checked before the unit changes.
    """
    array = parsed.array
    ticks = np.asarray(array.asi8)
    return _ticks_to_ns(ticks, ~np.asarray(parsed.isna()), _NS_PER_UNIT[array.unit])


def _ticks_to_ns(ticks: np.ndarray, valid: np.ndarray, ns_per_tick: int) -> np.ndarray:
    fits = valid & (np.abs(np.where(valid, ticks, 0)) <= np.iinfo(np.int64).max // ns_per_tick)
    nanoseconds = ns_in_range(np.where(fits, ticks, 0) * ns_per_tick, valid)
    return np.where(valid & ~fits, OUT_OF_RANGE_NS, nanoseconds)


def _seconds_to_ns(seconds: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Convert nullable int64 epoch seconds to checked int64 ns (null -> ``NO_TIME``)."""
    values = np.asarray(pc.fill_null(seconds, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    valid = ~np.asarray(seconds.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return _ticks_to_ns(values, valid, 1_000_000_000)


def _strptime_seconds(text: pa.Array | pa.ChunkedArray, time_format: str) -> pa.Array | pa.ChunkedArray:
    # Seconds, not nanoseconds: Arrow's ns parse turns years outside 1677-2262 into nulls ("does not
    # parse"), but such a time did parse; it is out of range, and the message should say so.
    return pc.strptime(text, format=time_format, unit="s", error_is_null=True).cast(pa.int64())


def _strptime(text: pa.Array | pa.ChunkedArray, time_format: str) -> np.ndarray:
    return _seconds_to_ns(_strptime_seconds(text, time_format))


def _strptime_with_fraction(text: pa.Array | pa.ChunkedArray, base_format: str) -> np.ndarray:
    head, fraction = _split_fraction(text)
    fraction_ok = pc.match_substring_regex(fraction, r"^\d{1,9}$")
    fraction = pc.if_else(fraction_ok, fraction, pa.scalar(None, fraction.type))
    fraction_ns = pc.utf8_rpad(fraction, width=9, padding="0").cast(pa.int64())
    seconds = _strptime_seconds(head, base_format)
    whole_ns = _seconds_to_ns(pc.if_else(pc.is_null(fraction_ns), pa.scalar(None, pa.int64()), seconds))
    fraction_values = np.asarray(pc.fill_null(fraction_ns, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    return np.where(whole_ns >= FIRST_TIME_NS, whole_ns + fraction_values, whole_ns)


def _split_fraction(text: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """Split ``'<time>.<digits>'`` at the last dot; fixed-width columns (the usual case) by slicing."""
    lengths = pc.min_max(pc.utf8_length(text))
    width = lengths["min"].as_py()
    dot_at = _fixed_dot_position(text, width) if width == lengths["max"].as_py() else None
    if dot_at is not None:
        head = pc.utf8_slice_codeunits(text, 0, dot_at)
        return head, pc.utf8_slice_codeunits(text, dot_at + 1, width)
    parts = pc.extract_regex(text, r"^(?P<head>.*)\.(?P<fraction>[^.]*)$")
    return pc.struct_field(parts, "head"), pc.struct_field(parts, "fraction")


def _fixed_dot_position(text: pa.Array | pa.ChunkedArray, width: int | None) -> int | None:
    """Return where the dot sits if every value has it at the same place, else None."""
    if not width:
        return None
    first = next((value for value in text.to_pylist()[:1] if value), "")
    dot_at = first.rfind(".")
    if dot_at < 0:
        return None
    at_dot = pc.equal(pc.utf8_slice_codeunits(text, dot_at, dot_at + 1), ".")
    return dot_at if pc.all(at_dot).as_py() else None


def detect_time_format(text: pd.Series) -> str | None:
    """Return the candidate format that parses a sample of ``text`` best, or None if none parses any.

    Raises:
        DataError: two candidates parse equally well but disagree (``01/02/2024`` could be
            1 February or 2 January).
    """
    # Spread over the whole file: more distinct days resolve day/month order, and a few bad first rows
    # do not decide the format.
    step = max(1, len(text) // _SAMPLE_SIZE)
    sample = text.iloc[::step].dropna().iloc[:_SAMPLE_SIZE]
    results = {fmt: parse_time_text(sample, fmt) for fmt in CANDIDATE_FORMATS}
    counts = {fmt: int((parsed != NO_TIME).sum()) for fmt, parsed in results.items()}
    best = max(counts.values())
    if best == 0:
        return None
    winners = [fmt for fmt in CANDIDATE_FORMATS if counts[fmt] == best]
    for other in winners[1:]:
        if not np.array_equal(results[winners[0]], results[other]):
            raise DataError(
                f"the times are ambiguous (first value {quote(sample.iloc[0])} reads as both "
                f"{describe_format(winners[0])} and {describe_format(other)}); write them as YYYY-MM-DD HH:MM:SS"
            )
    return winners[0]


def parse_time_column(column: pd.Series, *, column_name: str, source: str) -> tuple[np.ndarray, str]:
    """Parse a time column of text or epoch numbers; return int64 UTC nanoseconds and how it was read.

    Raises:
        DataError: the column has no values, its text matches no known format, or the format is
            ambiguous.
    """
    if column.notna().sum() == 0:  # no rows, or no time in any row: validation reports each row
        return np.full(len(column), NO_TIME, dtype=np.int64), "a time"
    if pd.api.types.is_numeric_dtype(column):
        return _parse_epoch(column.to_numpy(np.float64), source)
    try:
        time_format = detect_time_format(column)
    except DataError as exc:
        raise DataError(f"{source}: column {column_name!r}: {exc}") from None
    if time_format is not None:
        return parse_time_text(column, time_format), describe_format(time_format)
    numbers = pd.to_numeric(column, errors="coerce").to_numpy(np.float64)
    if np.isfinite(numbers).sum() * 2 > column.notna().sum():  # mostly epoch numbers, a few bad cells
        return _parse_epoch(numbers, source)
    raise DataError(
        f"{source}: cannot read the times in column {quote(column_name)} (first value "
        f"{quote(column.dropna().iloc[0])}); expected e.g. '2024-01-31 13:00:00', '2024.01.31 13:00', "
        "'31.01.2024 13:00:00.000' or epoch seconds/milliseconds"
    )


def _parse_epoch(numbers: np.ndarray, source: str) -> tuple[np.ndarray, str]:
    unit = epoch_unit(numbers, source=source)
    return epoch_to_ns(numbers, unit), f"epoch {unit}"


def epoch_unit(values: np.ndarray, *, source: str) -> str:
    """Return the epoch unit (seconds, milliseconds, ...) of the first finite value, by its magnitude.

    Binance moved spot klines from milliseconds to microseconds in 2025, so the unit is decided per
    file from the numbers themselves rather than from the file's name or date.
    """
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        raise DataError(f"{source}: the time column has no numbers")
    first = abs(float(finite[0]))
    for name, low, high, _ in _EPOCH_UNITS:
        if low <= first < high:
            return name
    return "nanoseconds"  # out of every range: each value will be reported as unparseable


def epoch_to_ns(values: np.ndarray, unit: str) -> np.ndarray:
    """Convert epoch numbers in ``unit`` to int64 nanoseconds; values of another magnitude -> ``NO_TIME``.

    A value whose magnitude belongs to another unit (a millisecond time in a microsecond file) would
    land decades away, so it is refused as unparseable instead of being silently misread; a value of
    the right magnitude beyond year 2261 (epoch seconds go up to 1e11, year 5138) is out of range.
    """
    _, low, high, us_per_unit = next(entry for entry in _EPOCH_UNITS if entry[0] == unit)
    with np.errstate(invalid="ignore"):
        in_magnitude = np.isfinite(values) & (values >= low) & (values < high)
        ns_estimate = values * (us_per_unit * 1000 if us_per_unit else 1)
        fits = in_magnitude & (ns_estimate < float(END_TIME_NS))
    safe = np.where(fits, values, 0.0)
    # Via whole microseconds: a float times 1e6 stays exact far below 2**53, times 1e9 would not.
    nanoseconds = safe.astype(np.int64) if us_per_unit == 0 else np.rint(safe * us_per_unit).astype(np.int64) * 1000
    return np.where(in_magnitude & ~fits, OUT_OF_RANGE_NS, ns_in_range(nanoseconds, in_magnitude))


def describe_format(time_format: str) -> str:
    """Return a readable description of a format for messages (``%Y-%m-%d %H:%M`` -> ``YYYY-MM-DD HH:MM``)."""
    if time_format == ISO8601:
        return "an ISO 8601 time"
    readable = time_format
    for code, text in (("%Y", "YYYY"), ("%m", "MM"), ("%d", "DD"), ("%H", "HH"), ("%M", "MM"), ("%S", "SS")):
        readable = readable.replace(code, text)
    return readable.replace("%f", "fff")


def parse_date_and_clock(
    date_text: pd.Series, clock_text: pd.Series, date_format: str, clock_format: str
) -> np.ndarray:
    """Parse separate date and time-of-day columns into int64 UTC nanoseconds.

    Each column repeats few distinct widths, so both usually take the fixed-width fast path on their
    own, which avoids building a million joined strings; otherwise they are joined and parsed together.
    """
    dates = parse_fixed_width(to_arrow_text(date_text), date_format) if len(date_text) else None
    clocks = parse_fixed_width(to_arrow_text(clock_text), clock_format) if len(clock_text) else None
    if dates is None or clocks is None:
        return parse_time_text(join_text(date_text, clock_text), f"{date_format} {clock_format}")
    unparsed = (dates == NO_TIME) | (clocks == NO_TIME)
    return np.where(unparsed, NO_TIME, np.where(dates == OUT_OF_RANGE_NS, OUT_OF_RANGE_NS, dates + clocks))


# --- time zones ----------------------------------------------------------------------------------------


def resolve_zone(name: str) -> zoneinfo.ZoneInfo:
    """Return the IANA time zone ``name`` (``Europe/Athens``, ``EET``, ``Etc/GMT-2``, ``UTC``).

    Raises:
        UnknownNameError: not a zone name; the message suggests the closest names.
    """
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise UnknownNameError(_unknown_zone_message(name)) from None


def _unknown_zone_message(name: str) -> str:
    known = {zone.lower(): zone for zone in zoneinfo.available_timezones()}
    close = difflib.get_close_matches(str(name).lower(), known, n=3, cutoff=0.6)
    suggestion = f"; did you mean {', '.join(repr(known[match]) for match in close)}?" if close else ""
    return f"unknown time zone {name!r}{suggestion} (--tz takes {_ZONE_EXAMPLES})"


def check_dst_rule(rule: str) -> DstRule:
    """Return ``rule`` if it is one of ``infer``, ``earlier``, ``later``; raise naming the choices."""
    if rule not in DST_RULES:
        raise DataError(f"unknown --dst rule {rule!r}; choose one of: {', '.join(DST_RULES)}")
    return rule


def local_to_utc(
    local_ns: np.ndarray,
    zone: zoneinfo.ZoneInfo,
    dst: DstRule = "infer",
    *,
    source: str,
    line_numbers: np.ndarray | None = None,
) -> np.ndarray:
    """Convert clock times in ``zone`` (int64 ns, ``NO_TIME`` kept) to UTC by the module's DST rule.

    Raises:
        DataError: a time falls in the hour skipped at a DST change, or a time in the repeated hour
            cannot be placed by bar order (``dst="infer"``); the message names the line.
    """
    valid = (local_ns != NO_TIME) & (local_ns != OUT_OF_RANGE_NS)
    clock = local_ns[valid]
    summer, standard = _both_readings(clock, zone)
    describe = _RowDescriber(source, line_numbers, np.flatnonzero(valid))
    _refuse_skipped_hour(clock, summer, zone, describe)
    ambiguous = summer != standard
    if dst == "earlier" or not ambiguous.any():
        chosen = summer
    elif dst == "later":
        chosen = standard
    else:
        chosen = np.where(_second_pass(clock, ambiguous, zone, summer, standard, describe), standard, summer)
    out = local_ns.copy()
    out[valid] = chosen
    return out


def _both_readings(clock_ns: np.ndarray, zone: zoneinfo.ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """Return each clock time read as summer time and as standard time (equal outside the repeated hour).

    A time in the skipped hour is ``NO_TIME`` in both.
    """
    index = pd.DatetimeIndex(clock_ns.view("datetime64[ns]"))
    n_rows = len(clock_ns)
    readings = [
        np.asarray(index.tz_localize(zone, ambiguous=np.full(n_rows, is_summer), nonexistent="NaT").asi8)
        for is_summer in (True, False)
    ]
    return readings[0], readings[1]


class _RowDescriber:
    """Name a row of the converted times as ``<file> line <n>`` for messages."""

    def __init__(self, source: str, line_numbers: np.ndarray | None, rows: np.ndarray) -> None:
        self.source, self.line_numbers, self.rows = source, line_numbers, rows

    def __call__(self, position: int) -> str:
        row = int(self.rows[position])
        if self.line_numbers is None:
            return f"{self.source} row {row}"
        return f"{self.source} line {int(self.line_numbers[row])}"


def _refuse_skipped_hour(
    clock_ns: np.ndarray, summer: np.ndarray, zone: zoneinfo.ZoneInfo, describe: _RowDescriber
) -> None:
    skipped = np.flatnonzero(summer == NO_TIME)
    if len(skipped) == 0:
        return
    first = int(skipped[0])
    others = f" (and {len(skipped) - 1} other line(s))" if len(skipped) > 1 else ""
    raise DataError(
        f"{describe(first)}: {_clock_text(clock_ns[first])} does not exist in {zone.key}: the clocks jump "
        f"over that hour when summer time starts{others}; the file's times are not {zone.key} time (check --tz)"
    )


def _second_pass(
    clock_ns: np.ndarray,
    ambiguous: np.ndarray,
    zone: zoneinfo.ZoneInfo,
    summer: np.ndarray,
    standard: np.ndarray,
    describe: _RowDescriber,
) -> np.ndarray:
    """Return which rows of the repeated hour are its second pass, from where the clock steps back.

    Raises:
        DataError: a run of repeated-hour rows in which the clock never steps back.
    """
    starts = ambiguous & ~np.concatenate(([False], ambiguous[:-1]))
    ends = ambiguous & ~np.concatenate((ambiguous[1:], [False]))
    steps_back = np.concatenate(([False], clock_ns[1:] <= clock_ns[:-1])) & ambiguous & ~starts
    steps_so_far = np.cumsum(steps_back)
    steps_before_run = np.maximum.accumulate(np.where(starts, steps_so_far, 0))
    undecided = np.flatnonzero(starts)[steps_so_far[ends] == steps_before_run[ends]]
    if len(undecided):
        first = int(undecided[0])
        raise DataError(
            f"{describe(first)}: {_clock_text(clock_ns[first])} occurs twice in {zone.key} (the hour repeated "
            "when summer time ends) and the bars around it do not show which time it is; pass --dst earlier "
            f"(UTC{_offset_text(clock_ns[first] - summer[first])}) or --dst later "
            f"(UTC{_offset_text(clock_ns[first] - standard[first])})"
        )
    return ambiguous & (steps_so_far > steps_before_run)


def _clock_text(nanoseconds: int) -> str:
    return pd.Timestamp(int(nanoseconds), unit="ns").strftime("%Y-%m-%d %H:%M:%S")


def _offset_text(offset_ns: int) -> str:
    minutes = int(offset_ns) // 60_000_000_000
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
