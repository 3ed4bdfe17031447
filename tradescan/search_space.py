"""Search spaces: the Optuna distributions, constraints and grid presets of one strategy (DESIGN §11).

A space file is checked against the strategy's ``Params`` model when it is loaded — unknown names
(with "did you mean"), bounds outside the field's bounds, a float range for an int parameter, preset
values outside the space — so a mistake fails before the first trial, not at trial 3,000.

Constraints such as ``"ema_fast < ema_slow"`` are parsed with :mod:`ast` into a small tree of names,
numbers, comparisons, arithmetic and ``and``/``or``/``not``, and evaluated by walking that tree:
nothing in a space file is ever passed to ``eval``.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import math
import operator
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from tradescan.errors import ConfigError, did_you_mean
from tradescan.frozen import FrozenModel
from tradescan.strategy import Strategy
from tradescan.yaml_files import parse_yaml, read_text

ParamValue = bool | int | float | str | None


class IntParam(FrozenModel):
    """Integers ``low..high`` (inclusive) in steps of ``step``; ``log`` samples on a log scale."""

    type: Literal["int"]
    low: int
    high: int
    step: int = Field(default=1, gt=0)
    log: bool = False


class FloatParam(FrozenModel):
    """Floats in ``[low, high]``, optionally on a grid of ``step`` or on a log scale."""

    type: Literal["float"]
    low: float
    high: float
    step: float | None = Field(default=None, gt=0)
    log: bool = False


class CategoricalParam(FrozenModel):
    """One of ``choices`` (booleans, numbers, strings or null)."""

    type: Literal["categorical"]
    choices: tuple[ParamValue, ...] = Field(min_length=1)


ParamSpec = Annotated[IntParam | FloatParam | CategoricalParam, Field(discriminator="type")]


class SearchSpaceFile(FrozenModel):
    """The schema of a ``search_spaces/*.yaml`` file."""

    params: dict[str, ParamSpec] = Field(min_length=1)
    constraints: tuple[str, ...] = ()
    presets: dict[str, dict[str, tuple[ParamValue, ...]]] = Field(default_factory=dict)


# --- constraints --------------------------------------------------------------------------------------

_BINARY_OPERATORS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_UNARY_OPERATORS: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}


@dataclass(frozen=True)
class Constraint:
    """A parsed constraint expression; ``holds(params)`` evaluates it without ``eval``."""

    text: str
    tree: ast.expr
    names: frozenset[str]

    def holds(self, params: Mapping[str, Any]) -> bool:
        """Return whether the constraint is satisfied by ``params`` (every name must be present)."""
        return bool(_evaluate(self.tree, params))


def _evaluate(node: ast.expr, params: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return params[node.id]
    if isinstance(node, ast.BoolOp):
        values = (_evaluate(v, params) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp):
        return _UNARY_OPERATORS[type(node.op)](_evaluate(node.operand, params))
    if isinstance(node, ast.BinOp):
        return _BINARY_OPERATORS[type(node.op)](_evaluate(node.left, params), _evaluate(node.right, params))
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, params)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, params)
            if not _COMPARISONS[type(op)](left, right):
                return False
            left = right
        return True
    raise TypeError(f"unsupported node {type(node).__name__}")  # parse_constraint rejects these


def _check_node(node: ast.AST, text: str) -> None:
    allowed = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.BinOp, ast.Compare, ast.Name,
               ast.Load, ast.Constant)
    ok = isinstance(node, allowed) or type(node) in (*_BINARY_OPERATORS, *_COMPARISONS, *_UNARY_OPERATORS)
    if isinstance(node, ast.Constant) and not isinstance(node.value, bool | int | float | str | type(None)):
        ok = False
    if not ok:
        raise ConfigError(
            f"constraint {text!r}: {type(node).__name__} is not allowed; use parameter names, numbers, "
            "comparisons (< <= > >= == !=), + - * / // % and and/or/not"
        )


def parse_constraint(text: str, known_names: Mapping[str, object] | set[str]) -> Constraint:
    """Parse ``text`` into a ``Constraint`` whose names must all be in ``known_names``."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"constraint {text!r} is not a valid expression: {exc.msg}") from None
    for node in ast.walk(tree):
        _check_node(node, text)
    names = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
    for name in sorted(names):
        if name not in known_names:
            raise ConfigError(f"constraint {text!r}: {did_you_mean(name, known_names, what='parameter')}")
    return Constraint(text=text, tree=tree.body, names=names)


# --- the loaded space ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchSpace:
    """A validated search space for one strategy.

    Attributes:
        path: the file it was read from (``None`` when built from a mapping).
        text: the file's exact content (hashed into the run's lineage).
        params: distribution settings by parameter name, in file order.
        constraints: parsed constraint expressions.
        presets: grid presets, each ``{param: [values...]}`` in file order.
        defaults: the strategy's default value of every ``Params`` field (fills names not searched).
    """

    path: Path | None
    text: str
    params: dict[str, IntParam | FloatParam | CategoricalParam]
    constraints: tuple[Constraint, ...]
    presets: dict[str, dict[str, tuple[ParamValue, ...]]]
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """Return the SHA-256 of the file's text (part of lineage)."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def distributions(self) -> dict[str, Any]:
        """Return the Optuna distributions, by parameter name."""
        return {name: to_distribution(name, spec) for name, spec in self.params.items()}

    def violated_constraint(self, params: Mapping[str, Any]) -> str | None:
        """Return the text of the first constraint ``params`` breaks (defaults fill the rest), or None."""
        full = {**self.defaults, **params}
        for constraint in self.constraints:
            if not constraint.holds(full):
                return constraint.text
        return None

    def grid(self, preset: str) -> list[dict[str, ParamValue]]:
        """Return the preset's cartesian product in a fixed order (file order, first name slowest).

        Constraints are not applied here; see ``tradescan.sweep.grid``.
        """
        if preset not in self.presets:
            raise ConfigError(f"search space: {did_you_mean(preset, self.presets, what='preset')}")
        values = self.presets[preset]
        names = list(values)
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values.values())]

    def grid_size(self, preset: str) -> int:
        """Return the number of points of a preset before constraints."""
        return math.prod(len(v) for v in self.presets[preset].values())


def to_distribution(name: str, spec: IntParam | FloatParam | CategoricalParam) -> Any:
    """Return the Optuna distribution for ``spec``, turning Optuna's rule violations into ``ConfigError``."""
    import optuna.distributions as od

    try:
        if isinstance(spec, IntParam):
            return od.IntDistribution(spec.low, spec.high, log=spec.log, step=spec.step)
        if isinstance(spec, FloatParam):
            return od.FloatDistribution(spec.low, spec.high, log=spec.log, step=spec.step)
        return od.CategoricalDistribution(list(spec.choices))
    except ValueError as exc:
        raise ConfigError(f"params.{name}: {exc}") from None


def _field_adapter(strategy: Strategy, name: str) -> TypeAdapter[Any]:
    info = strategy.Params.model_fields[name]
    # Typed Any: pydantic >= 2.14 types TypeAdapter's argument as a TypeForm, which neither value is to mypy.
    annotation: Any = info.annotation if not info.metadata else Annotated[(info.annotation, *info.metadata)]
    return TypeAdapter(annotation)


def _annotation_kind(strategy: Strategy, name: str) -> str:
    annotation = strategy.Params.model_fields[name].annotation
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    return "other"


def _check_type(name: str, spec: IntParam | FloatParam | CategoricalParam, kind: str) -> str | None:
    if isinstance(spec, FloatParam) and kind in ("int", "bool"):
        return f"params.{name}: a float range for an {kind} parameter; use type: int"
    if isinstance(spec, IntParam) and kind == "bool":
        return f"params.{name}: an int range for a bool parameter; use type: categorical, choices: [true, false]"
    if isinstance(spec, CategoricalParam) and kind == "int":
        bad = [c for c in spec.choices if isinstance(c, bool) or not isinstance(c, int)]
        if bad:
            return f"params.{name}: choices {bad} are not integers, as the parameter is"
    return None


def _check_values(strategy: Strategy, where: str, name: str, values: list[Any]) -> list[str]:
    adapter = _field_adapter(strategy, name)
    problems = []
    for value in values:
        try:
            adapter.validate_python(value, strict=isinstance(value, bool))
        except ValidationError as exc:
            message = exc.errors()[0]["msg"]
            problems.append(f"{where}: {value!r} is outside {strategy.name}.Params.{name}: {message}")
    return problems


def _spec_values(spec: IntParam | FloatParam | CategoricalParam) -> list[Any]:
    if isinstance(spec, CategoricalParam):
        return list(spec.choices)
    return [spec.low, spec.high]


def _check_param(strategy: Strategy, name: str, spec: IntParam | FloatParam | CategoricalParam) -> list[str]:
    known = strategy.Params.model_fields
    if name not in known:
        return [f"params.{name}: {did_you_mean(name, known, what=f'parameter of {strategy.name}')}"]
    type_problem = _check_type(name, spec, _annotation_kind(strategy, name))
    if type_problem:
        return [type_problem]
    problems = _check_values(strategy, f"params.{name}", name, _spec_values(spec))
    try:
        to_distribution(name, spec)
    except ConfigError as exc:
        problems.append(str(exc))
    return problems


def _check_preset(
    preset: str, grid: Mapping[str, tuple[ParamValue, ...]], params: Mapping[str, Any], all_names: set[str]
) -> list[str]:
    problems = []
    for name, values in grid.items():
        where = f"presets.{preset}.{name}"
        if name in all_names and name not in params:
            continue  # the parameter itself is already reported
        if name not in params:
            problems.append(f"{where}: {did_you_mean(name, params, what='parameter of the space')}")
            continue
        if not values:
            problems.append(f"{where}: needs at least one value")
        distribution = to_distribution(name, params[name])
        for value in values:
            if not _in_distribution(distribution, value):
                problems.append(f"{where}: {value!r} is outside the space ({_describe(params[name])})")
    return problems


def _in_distribution(distribution: Any, value: Any) -> bool:
    import optuna.distributions as od

    if isinstance(distribution, od.CategoricalDistribution):
        return any(value == c and isinstance(value, bool) == isinstance(c, bool) for c in distribution.choices)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(distribution, od.IntDistribution) and not float(value).is_integer():
        return False
    return bool(distribution._contains(distribution.to_internal_repr(value)))


def _describe(spec: IntParam | FloatParam | CategoricalParam) -> str:
    if isinstance(spec, CategoricalParam):
        return f"choices {list(spec.choices)}"
    step = f", step {spec.step}" if spec.step else ""
    return f"{spec.type} {spec.low}..{spec.high}{step}"


def _parse_file(raw: Any, label: str) -> SearchSpaceFile:
    from tradescan.directive import format_validation_error

    if not isinstance(raw, Mapping):
        raise ConfigError(f"{label}: expected a mapping with params:, constraints:, presets:")
    try:
        return SearchSpaceFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(label, exc, SearchSpaceFile)) from None


def build_search_space(
    raw: Mapping[str, Any], strategy: Strategy, *, text: str = "", path: Path | None = None
) -> SearchSpace:
    """Validate a space mapping against ``strategy.Params``; raise one ``ConfigError`` naming every fault."""
    label = path.name if path else "search space"
    parsed = _parse_file(raw, label)
    problems: list[str] = []
    for name, spec in parsed.params.items():
        problems += _check_param(strategy, name, spec)
    valid_params = {n: s for n, s in parsed.params.items() if not any(p.startswith(f"params.{n}:") for p in problems)}
    for preset, grid in parsed.presets.items():
        problems += _check_preset(preset, grid, valid_params, set(parsed.params))
    constraints = []
    for index, text_expr in enumerate(parsed.constraints):
        try:
            constraints.append(parse_constraint(text_expr, strategy.Params.model_fields))
        except ConfigError as exc:
            problems.append(f"constraints.{index}: {exc}")
    if problems:
        raise ConfigError(f"{label}: " + "; ".join(problems))
    defaults = strategy.parse_params({}).model_dump()
    return SearchSpace(path, text, dict(parsed.params), tuple(constraints), dict(parsed.presets), defaults)


def load_search_space(path: str | os.PathLike[str], strategy: Strategy) -> SearchSpace:
    """Read a search-space YAML file and validate it against ``strategy``."""
    file_path = Path(path)
    text = read_text(file_path, what="search-space file")
    raw = parse_yaml(text, label=file_path.name) or {}
    return build_search_space(raw, strategy, text=text, path=file_path)
