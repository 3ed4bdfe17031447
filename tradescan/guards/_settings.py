"""The directive's ``guards:`` section: preset, seed, threshold overrides and budgets (DESIGN §7).

```yaml
guards:
  preset: validate            # screen | validate: which guards run, their thresholds and criticality
  seed: 7                     # every random stream of the guard stage derives from it
  thresholds: {wfe: 0.7}      # by guard name; overrides the preset (a guard outside it joins, non-critical)
  critical: {pbo: false}      # by guard name; overrides the preset's criticality
  skip: [regime_mismatch]     # guards not run at all
  walk_forward: {folds: 5, train_fraction: 0.75, anchored: false, trials_per_fold: 100}
  permutation: {n_permutations: 100, mode: search, search_trials: null, keep_bars: null}
  bootstrap: {n_resamples: 2000, confidence: 0.95, block_length: null, min_trades: 30}
  sensitivity: {relative_step: 0.1, integer_steps: 1}
  pbo: {n_splits: 16}
  regime: {method: stream, checkpoint_every: 1000}
  mc1: {n_paths: 1000, block_length: null, drawdown_threshold: 0.2}
  mc2: {n_paths: 1000, spread_mult_range: [0.8, 1.2], slippage_mult_range: [0.9, 1.3]}
```

Every model is frozen and forbids unknown keys; numbers are strict (``true`` is not 1); guard names
in ``thresholds``, ``critical`` and ``skip`` are checked against the registry with "did you mean".
The thresholds of each preset are declared by the guard modules themselves (``tradescan.guards.checks``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, ValidationError, field_validator

from tradescan.errors import ConfigError, did_you_mean
from tradescan.guards._seeds import derive_seed

__all__ = [
    "PRESETS",
    "BootstrapSettings",
    "GuardSettings",
    "McCostSettings",
    "McDrawdownSettings",
    "PboSettings",
    "PermutationSettings",
    "Preset",
    "RegimeCheckSettings",
    "SensitivitySettings",
    "WalkForwardSettings",
    "parse_guard_settings",
]

Preset = Literal["screen", "validate"]
PRESETS: tuple[Preset, ...] = ("screen", "validate")


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WalkForwardSettings(_Settings):
    """Walk-forward folds (``walk_forward_folds``) and the re-optimisation budget of each train window."""

    folds: StrictInt = Field(default=5, ge=2, le=100)
    train_fraction: StrictFloat = Field(default=0.75, gt=0.0, lt=1.0)
    anchored: StrictBool = False
    trials_per_fold: StrictInt = Field(default=100, ge=1, le=10_000_000)


class PermutationSettings(_Settings):
    """The Monte-Carlo permutation test.

    ``mode`` ``None`` takes the preset's default (``search`` for validate, ``finalist`` for screen).
    ``search_trials`` is the trial budget of each permuted search (``None`` = stage 1's own count, the
    fair comparison; a smaller budget should be compared with the best of stage 1's first as many
    trials). ``keep_bars`` is the ``start_index`` of ``permute_bars`` (``None`` = the strategy's warm-up).
    """

    n_permutations: StrictInt = Field(default=100, ge=1, le=1_000_000)
    mode: Literal["finalist", "search"] | None = None
    search_trials: StrictInt | None = Field(default=None, ge=1, le=10_000_000)
    keep_bars: StrictInt | None = Field(default=None, ge=0)


class BootstrapSettings(_Settings):
    """The profit factor's stationary-bootstrap interval (``profit_factor_interval``)."""

    n_resamples: StrictInt = Field(default=2000, ge=100, le=1_000_000)
    confidence: StrictFloat = Field(default=0.95, gt=0.5, lt=1.0)
    block_length: StrictFloat | None = Field(default=None, ge=1.0)
    min_trades: StrictInt = Field(default=30, ge=8)


class SensitivitySettings(_Settings):
    """Neighbour moves (``sensitivity_neighbours``)."""

    relative_step: StrictFloat = Field(default=0.10, gt=0.0, lt=1.0)
    integer_steps: StrictInt = Field(default=1, ge=1, le=1000)


class PboSettings(_Settings):
    """CSCV blocks (``pbo``): an even number; 16 gives 12,870 splits."""

    n_splits: StrictInt = Field(default=16, ge=2, le=24)

    @field_validator("n_splits")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError(f"n_splits must be even, got {value}")
        return value


class RegimeCheckSettings(_Settings):
    """How the live-feed labels are computed (``regime_mismatch``)."""

    method: Literal["stream", "checkpoints"] = "stream"
    checkpoint_every: StrictInt = Field(default=1000, ge=1)


class McDrawdownSettings(_Settings):
    """MC1 (``mc_drawdown``)."""

    n_paths: StrictInt = Field(default=1000, ge=1, le=1_000_000)
    block_length: StrictFloat | None = Field(default=None, ge=1.0)
    drawdown_threshold: StrictFloat = Field(default=0.20, gt=0.0, lt=1.0)


class McCostSettings(_Settings):
    """MC2 (``mc_cost_noise``)."""

    n_paths: StrictInt = Field(default=1000, ge=1, le=1_000_000)
    spread_mult_range: tuple[StrictFloat, StrictFloat] = (0.8, 1.2)
    slippage_mult_range: tuple[StrictFloat, StrictFloat] = (0.9, 1.3)

    @field_validator("spread_mult_range", "slippage_mult_range")
    @classmethod
    def _ordered(cls, bounds: tuple[float, float]) -> tuple[float, float]:
        if not 0.0 <= bounds[0] <= bounds[1]:
            raise ValueError(f"0 <= low <= high must hold, but got (low={bounds[0]}, high={bounds[1]})")
        return bounds


def _known_guards(names: Any, field: str) -> None:
    from tradescan.guards.checks import guard_names

    known = guard_names()
    for name in names:
        if name not in known:
            raise ValueError(f"{field}: {did_you_mean(str(name), known, what='guard')}")


class GuardSettings(_Settings):
    """The resolved ``guards:`` section of a directive (see the module docstring for the YAML)."""

    preset: Preset = "validate"
    seed: StrictInt = Field(default=0, ge=0, le=2**32 - 1)
    thresholds: dict[str, Annotated[StrictFloat, Field(allow_inf_nan=False)]] = Field(default_factory=dict)
    critical: dict[str, StrictBool] = Field(default_factory=dict)
    skip: tuple[str, ...] = ()
    walk_forward: WalkForwardSettings = WalkForwardSettings()
    permutation: PermutationSettings = PermutationSettings()
    bootstrap: BootstrapSettings = BootstrapSettings()
    sensitivity: SensitivitySettings = SensitivitySettings()
    pbo: PboSettings = PboSettings()
    regime: RegimeCheckSettings = RegimeCheckSettings()
    mc1: McDrawdownSettings = McDrawdownSettings()
    mc2: McCostSettings = McCostSettings()

    @field_validator("thresholds", "critical")
    @classmethod
    def _known_keys(cls, values: dict[str, Any], info: Any) -> dict[str, Any]:
        _known_guards(values, info.field_name)
        return values

    @field_validator("skip")
    @classmethod
    def _known_skipped(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        _known_guards(names, "skip")
        return names

    def active_guards(self) -> tuple[str, ...]:
        """Return the guards this stage runs, sorted: the preset's, plus any named in ``thresholds``
        or ``critical``, minus ``skip``."""
        from tradescan.guards.checks import all_guards

        in_preset = {guard.name for guard in all_guards() if self.preset in guard.thresholds}
        named = in_preset | set(self.thresholds) | set(self.critical)
        return tuple(sorted(named - set(self.skip)))

    def threshold(self, name: str) -> float:
        """Return guard ``name``'s threshold: the override, else the preset's, else the validate preset's."""
        from tradescan.guards.checks import get_guard

        return get_guard(name).threshold_under(self)

    def is_critical(self, name: str) -> bool:
        """Return whether guard ``name`` decides ``prod_ready``: the override, else the preset's rule."""
        from tradescan.guards.checks import get_guard

        return get_guard(name).critical_under(self)

    def critical_guards(self) -> tuple[str, ...]:
        """Return the active guards that are critical, sorted."""
        return tuple(name for name in self.active_guards() if self.is_critical(name))

    @property
    def permutation_mode(self) -> Literal["finalist", "search"]:
        """Return the permutation test's mode: as set, else ``search`` for validate, ``finalist`` for screen."""
        if self.permutation.mode is not None:
            return self.permutation.mode
        return "search" if self.preset == "validate" else "finalist"

    def derive_seed(self, *labels: str | int) -> int:
        """Return the seed of the random stream named by ``labels`` (``tradescan.guards.derive_seed``)."""
        return derive_seed(self.seed, *labels)


def parse_guard_settings(raw: Mapping[str, Any] | None, *, label: str = "guards") -> GuardSettings:
    """Validate a ``guards:`` mapping into ``GuardSettings`` or raise one ``ConfigError`` naming every fault."""
    from tradescan.directive import format_validation_error

    if raw is None:
        return GuardSettings()
    if not isinstance(raw, Mapping):
        shown = repr(raw) if len(repr(raw)) <= 80 else repr(raw)[:77] + "..."
        raise ConfigError(f"{label}: expected a mapping such as {{preset: validate, seed: 7}}, got {shown}")
    try:
        return GuardSettings.model_validate(dict(raw))
    except ValidationError as exc:
        raise ConfigError(format_validation_error(label, exc, GuardSettings)) from None
