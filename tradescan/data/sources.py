"""Where a stored dataset came from, as the data manifest records it (DESIGN §2).

The manifest keeps each dataset's origin so that ``data list`` can say whether bars are real or made
up, and so that a command that makes data replaces only data of its own kind: ``data synth`` never
overwrites an imported file, and ``data import`` replaces only an import of the same file (its recorded
path, ``store.same_origin``), unless asked (``--force``). One model per kind, told apart by ``kind``:

- ``import``: a file read by an importer — its absolute path and format;
- ``synthetic``: ``synthesize`` output — seed, bar count and requested start;
- ``resample``: built from another stored timeframe of the same symbol;
- ``frame``: a DataFrame handed to ``write_dataset`` from Python — a label the caller chose.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

_MODEL_CONFIG = ConfigDict(frozen=True, extra="forbid", strict=True)


class ImportSource(BaseModel):
    """Bars read from a data file."""

    model_config = _MODEL_CONFIG
    kind: Literal["import"] = "import"
    path: str = Field(min_length=1)
    format: str = Field(min_length=1)

    def describe(self) -> str:
        return f"import {self.path} ({self.format})"


class SyntheticSource(BaseModel):
    """Bars made by ``synthesize``; ``start`` is None for datasets recorded before it was kept."""

    model_config = _MODEL_CONFIG
    kind: Literal["synthetic"] = "synthetic"
    seed: int = Field(ge=0)
    bars: int = Field(ge=1)
    start: str | None = None

    def describe(self) -> str:
        start = (self.start or "").removesuffix("T00:00:00+00:00")
        return f"synthetic seed={self.seed} bars={self.bars}" + (f" start={start}" if start else "")


class ResampleSource(BaseModel):
    """Bars resampled from another stored timeframe of the same symbol."""

    model_config = _MODEL_CONFIG
    kind: Literal["resample"] = "resample"
    from_timeframe: str = Field(min_length=1)
    from_sha256: str | None = None

    def describe(self) -> str:
        return f"resample from {self.from_timeframe}"


class FrameSource(BaseModel):
    """Bars handed to ``write_dataset`` from Python (or recorded by an older version as plain text)."""

    model_config = _MODEL_CONFIG
    kind: Literal["frame"] = "frame"
    label: str = "frame"

    def describe(self) -> str:
        return self.label if self.label == "frame" else f"frame {self.label}"


DatasetSource = Annotated[ImportSource | SyntheticSource | ResampleSource | FrameSource, Field(discriminator="kind")]
SourceKind = Literal["import", "synthetic", "resample", "frame"]
