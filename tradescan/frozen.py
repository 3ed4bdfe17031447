"""``FrozenModel``: the one base of every configuration model (directive, broker, capital, regime, ...).

A configuration is a value: frozen (so it can be hashed into a run id and shared between threads and
processes), with unknown fields refused (a typo such as ``max_hold_bar:`` fails instead of silently
running the default) — the habit of nautilus_trader's ``NautilusConfig``.

It also refuses a boolean where a number is expected. pydantic's lax mode turns ``true`` into ``1`` for
an ``int`` field and ``1.0`` for a ``float`` field, so ``max_hold_bars: true`` would silently become a
one-bar time stop; here it is the error ``expected an integer, got true``. The check follows the field's
type into mappings and sequences (``spread_pips: {EURUSD: true}`` is refused too) and leaves fields
that accept booleans (``compounding: bool``, ``Any``) alone.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, ModelWrapValidatorHandler, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

__all__ = ["BOOL_NOT_NUMBER", "FrozenModel", "boolean_problem"]

# The pydantic error type of a boolean given for a number (formatters print its message as is).
BOOL_NOT_NUMBER = "bool_not_number"


def _members(annotation: Any) -> tuple[Any, ...]:
    """Return the alternatives of a union (``X | None`` included), else ``(annotation,)``."""
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return typing.get_args(annotation)
    return (annotation,)


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _number_kind(annotation: Any) -> str | None:
    """Return "an integer" or "a number" when ``annotation`` wants a number but no boolean, else None."""
    kinds = set()
    for member in map(_unwrap, _members(annotation)):
        if member is bool or member is Any or member is object:
            return None
        if typing.get_origin(member) is Literal:
            values = typing.get_args(member)
            if any(isinstance(value, bool) for value in values):
                return None
            if values and all(isinstance(value, int) for value in values):
                kinds.add(int)
        elif member in (int, float):
            kinds.add(member)
    if not kinds:
        return None
    return "an integer" if kinds == {int} else "a number"


def _item_types(annotation: Any, value: Any) -> list[tuple[str, Any, Any]]:
    """Return ``(label, item type, item)`` for the items of a mapping or sequence ``value``."""
    items: list[tuple[str, Any, Any]] = []
    for member in map(_unwrap, _members(annotation)):
        origin, args = typing.get_origin(member), typing.get_args(member)
        if isinstance(value, Mapping) and origin in (dict, Mapping, typing.Mapping) and len(args) == 2:
            items += [(repr(key), args[1], item) for key, item in value.items()]
        elif isinstance(value, list | tuple) and origin in (list, tuple, set, frozenset) and args:
            variadic = origin is not tuple or (len(args) == 2 and args[1] is Ellipsis)
            types_of = [args[0]] * len(value) if variadic else list(args)
            items += [(f"item {i}", kind, item) for i, (kind, item) in enumerate(zip(types_of, value, strict=False))]
    return items


def boolean_problem(annotation: Any, value: Any) -> str | None:
    """Return why ``value`` holds a boolean where ``annotation`` wants a number, or None when it does not.

    >>> boolean_problem(int | None, True)
    'expected an integer, got true'
    >>> boolean_problem(dict[str, float], {"EURUSD": False})
    "'EURUSD': expected a number, got false"
    """
    if isinstance(value, bool):
        kind = _number_kind(annotation)
        return f"expected {kind}, got {str(value).lower()}" if kind else None
    if isinstance(value, Mapping | list | tuple):
        for label, item_type, item in _item_types(annotation, value):
            problem = boolean_problem(item_type, item)
            if problem:
                return f"{label}: {problem}"
    return None


def _custom_error(error: Mapping[str, Any]) -> InitErrorDetails:
    """Return a reported error as one that can be raised again, its type, path, message and input kept."""
    details = PydanticCustomError(str(error["type"]), "{message}", {"message": str(error["msg"])})
    return InitErrorDetails(type=details, loc=tuple(error["loc"]), input=error.get("input"))


class FrozenModel(BaseModel):
    """A frozen pydantic model that forbids unknown fields and refuses booleans for numbers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _refuse_booleans_for_numbers(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        # A wrap validator, not a per-field one: pydantic forbids "before" validators on the fields that
        # discriminate a union (the search space's ``type``), and this way the boolean faults and every
        # other fault of the model are reported together, in field order.
        problems = cls._boolean_faults(data) if isinstance(data, Mapping) else []
        if not problems:
            return handler(data)
        try:
            handler(data)
            others: list[InitErrorDetails] = []
        except ValidationError as exc:
            refused = {problem["loc"][:1] for problem in problems}
            others = [_custom_error(error) for error in exc.errors() if error["loc"][:1] not in refused]
        order = {name: position for position, name in enumerate(cls.model_fields)}
        faults = sorted(problems + others, key=lambda e: order.get(str(e["loc"][0]), len(order)) if e["loc"] else -1)
        raise ValidationError.from_exception_data(cls.__name__, faults)

    @classmethod
    def _boolean_faults(cls, data: Mapping[str, Any]) -> list[InitErrorDetails]:
        faults = []
        for name, value in data.items():
            field = cls.model_fields.get(name) if isinstance(value, bool | Mapping | list | tuple) else None
            problem = boolean_problem(field.annotation, value) if field is not None else None
            if problem:
                details = PydanticCustomError(BOOL_NOT_NUMBER, "{problem}", {"problem": problem})
                faults.append(InitErrorDetails(type=details, loc=(name,), input=value))
        return faults
