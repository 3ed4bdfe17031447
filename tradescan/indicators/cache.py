"""``cached(bars, indicator, *params)``: an indicator of a ``Bars`` series, memoised under a derived key.

A sweep evaluates thousands of parameter sets on the same bars, and a hand-written key can silently
disagree with the lambda it names (``("ema", 20)`` computing EMA(21)). Here the key is derived from
the function and its bound arguments, the way backtesting.py's ``I()`` names an indicator, and the
price inputs are taken from the function's own parameter names: ``values`` is the close, ``high``,
``low``, ``close``, ``open`` and ``volume`` are those columns.

Keys are ``(name, *params)`` with every parameter bound, defaults included, e.g. ``("ema", 20)``,
``("rsi", 14)``, ``("macd", 12, 26, 9)``; they are the keys a strategy would write by hand for
``bars.cached``, so both ways share entries. ``name`` is the function's name for the indicators of
this package and ``module.qualname`` for any other function. An indicator that returns a NamedTuple
(``macd``, ``bollinger_bands``, ``stochastic``, ``donchian``, ``supertrend``) is stored one field
per entry, ``(*key, field)``, so that the cache's byte bound counts every array.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np

if TYPE_CHECKING:
    from tradescan.bars import Bars

Result = TypeVar("Result")

# A parameter of this name is fed from this Bars column.
BAR_INPUTS: dict[str, str] = {
    "values": "close",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
}
_PACKAGE = "tradescan.indicators"


def cached(bars: Bars, indicator: Callable[..., Result], *params: Hashable, **named: Hashable) -> Result:
    """Return ``indicator(<bar columns>, *params, **named)`` for ``bars``, computed once per series.

    Example: ``cached(bars, rsi, 14)`` is ``rsi(bars.close, 14)``; ``cached(bars, supertrend, 3.0, 10)``
    is ``supertrend(bars.high, bars.low, bars.close, 3.0, 10)``.

    Raises:
        TypeError: the arguments do not fit the indicator's signature, its leading parameters are
            not bar columns, or it returns neither an array nor its declared NamedTuple.
    """
    name = _indicator_name(indicator)
    columns, arguments = _bind(indicator, name, params, named)
    key = (name, *arguments.values())
    inputs = [getattr(bars, BAR_INPUTS[column]) for column in columns]

    def compute() -> Any:
        return indicator(*inputs, **arguments)

    output_type = _named_tuple_returned(indicator)
    if output_type is None:
        return cast(Result, bars.cached(key, _checked_array(compute, name)))
    return cast(Result, _cached_fields(bars, key, compute, output_type))


def _bind(
    indicator: Callable[..., Any], name: str, params: tuple[Hashable, ...], named: dict[str, Hashable]
) -> tuple[list[str], dict[str, Any]]:
    """Split the signature into leading bar columns and parameters; bind the parameters, defaults applied."""
    signature = inspect.signature(indicator)
    names = list(signature.parameters)
    columns: list[str] = []
    for parameter in names:
        if parameter not in BAR_INPUTS:
            break
        columns.append(parameter)
    if not columns:
        raise TypeError(f"{name}: its first parameter must be a bar column, one of {sorted(BAR_INPUTS)}")
    rest = signature.replace(parameters=[signature.parameters[parameter] for parameter in names[len(columns) :]])
    try:
        bound = rest.bind(*params, **named)
    except TypeError as exc:
        raise TypeError(f"{name}: {exc}") from None
    bound.apply_defaults()
    return columns, dict(bound.arguments)


def _indicator_name(indicator: Callable[..., Any]) -> str:
    module = getattr(indicator, "__module__", None) or ""
    name = getattr(indicator, "__qualname__", None) or repr(indicator)
    return name if module.startswith(_PACKAGE) else f"{module}.{name}"


@functools.cache
def _named_tuple_returned(indicator: Callable[..., Any]) -> type[tuple[Any, ...]] | None:
    """Return the NamedTuple class the indicator declares it returns, or None (one array)."""
    try:
        returned = typing.get_type_hints(indicator).get("return")
    except (NameError, TypeError):  # an annotation that does not resolve: the result is checked instead
        return None
    if isinstance(returned, type) and issubclass(returned, tuple) and hasattr(returned, "_fields"):
        return returned
    return None


def _checked_array(compute: Callable[[], Any], name: str) -> Callable[[], np.ndarray]:
    def checked() -> np.ndarray:
        value = compute()
        if not isinstance(value, np.ndarray):
            raise TypeError(
                f"{name} returned {type(value).__name__}, not an array; "
                "annotate its NamedTuple return type to cache several arrays"
            )
        return value

    return checked


def _cached_fields(
    bars: Bars, key: tuple[Hashable, ...], compute: Callable[[], Any], output_type: type[tuple[Any, ...]]
) -> tuple[Any, ...]:
    """Cache each field of a NamedTuple result under ``(*key, field)``; compute at most once."""
    computed: list[Any] = []

    def field_of(position: int) -> np.ndarray:
        if not computed:
            computed.append(compute())
        return np.asarray(computed[0][position])

    fields: tuple[str, ...] = output_type._fields  # type: ignore[attr-defined]
    parts = [bars.cached((*key, field), functools.partial(field_of, position)) for position, field in enumerate(fields)]
    return output_type(*parts)
