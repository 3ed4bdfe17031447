"""The one exception a guard turns into a failure with its reason."""

from __future__ import annotations

__all__ = ["UndefinedStatistic"]


class UndefinedStatistic(ValueError):
    """The data do not define the statistic: too few observations, a zero variance, an in-sample
    return ≤ 0 for WFE, no losing trade for a profit factor's interval, ...

    Statistics raise it instead of returning a default; a guard that catches it FAILS with its
    message as the reason (DESIGN §7: a guard that cannot be computed never passes by default).
    Bad arguments (wrong shapes, negative counts) raise plain ``ValueError``/``TypeError`` instead:
    those are bugs of the caller, not facts about the data.
    """
