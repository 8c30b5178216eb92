"""The statistics' input and the ablation design: tidy frames, variant names and their three factors.

Input of every test in :mod:`connectome_priors.stats`: a tidy ``pandas.DataFrame``, one row per (run, metric), with
the columns ``variant, task, seed, metric, value`` (NaN/inf values = no value; dropped and counted). A variant name
spells three factors (:func:`parse_variant`): ``W`` | ``W*`` | ``W!`` (init), then optionally ``D`` | ``D*``
(distance), then optionally ``C`` | ``C*`` (penalty). :data:`CANONICAL_VARIANTS` are the paper's eleven, in its order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

# The paper's eleven variants in its order (the single list: connectome_priors.benchmarks._variants builds its table from it).
CANONICAL_VARIANTS: tuple[str, ...] = (
    "W*D*C", "WD*C", "WDC", "WD*", "WD", "W", "W*D*C*", "WD*C*", "W*DC*", "W!D*C", "W!D*C*",
)
FACTORS: tuple[str, ...] = ("w_variant", "d_variant", "c_variant")
NONE_LEVEL = "none"
FACTOR_LEVELS: dict[str, tuple[str, ...]] = {
    "w_variant": ("w", "w!", "w*"),
    "d_variant": ("d", "d*", NONE_LEVEL),
    "c_variant": ("c", "c*", NONE_LEVEL),
}
REQUIRED_COLUMNS: tuple[str, ...] = ("variant", "task", "seed", "metric", "value")

_VARIANT_PATTERN = re.compile(r"^(W[*!]?)(D\*?)?(C\*?)?$")


def parse_variant(name: str) -> dict[str, str]:
    """Factor levels of a variant name: ``{"w_variant", "d_variant", "c_variant"}`` (lower case, ``"none"`` if absent).

    Grammar: ``W`` | ``W*`` | ``W!``, then optionally ``D`` | ``D*``, then optionally ``C`` | ``C*``.

    Example::

        >>> from connectome_priors.stats import parse_variant
        >>> parse_variant("W!D*C*")
        {'w_variant': 'w!', 'd_variant': 'd*', 'c_variant': 'c*'}
        >>> parse_variant("W")
        {'w_variant': 'w', 'd_variant': 'none', 'c_variant': 'none'}
    """
    match = _VARIANT_PATTERN.match(str(name))
    if match is None:
        raise ValueError(
            f"variant {name!r} is not a W/D/C variant name: expected W, W* or W!, then optionally D or D*, then "
            "optionally C or C* (e.g. 'W*D*C')"
        )
    w, d, c = match.groups()
    return {"w_variant": w.lower(), "d_variant": (d or NONE_LEVEL).lower(), "c_variant": (c or NONE_LEVEL).lower()}


def is_factorial(name: str) -> bool:
    return _VARIANT_PATTERN.match(str(name)) is not None


def check_frame(df: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame with columns {REQUIRED_COLUMNS}; got {type(df).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"df lacks the column(s) {missing}; required: {list(REQUIRED_COLUMNS)}")
    out = df.loc[:, list(REQUIRED_COLUMNS)].copy()
    out["value"] = pd.to_numeric(out["value"], errors="raise").astype(float)
    return out


def variant_order(variants: Iterable[str]) -> list[str]:
    """Canonical variants first, in the paper's order, then any other (control) variants alphabetically."""
    present = list(dict.fromkeys(variants))
    canonical = [v for v in CANONICAL_VARIANTS if v in present]
    return canonical + sorted(v for v in present if v not in CANONICAL_VARIANTS)


def level_key(level: str) -> tuple[bool, str]:
    return (level == NONE_LEVEL, level)  # "none" last, as NaN sorts last in the paper's tables


def finite(values: pd.Series) -> np.ndarray:
    x = values.to_numpy(dtype=float)
    return x[np.isfinite(x)]


def factor_frame(data: pd.DataFrame) -> pd.DataFrame:
    """Rows of the W/D/C variants with their factor levels (controls such as diagonal-only init are left out)."""
    data = data[data["variant"].map(is_factorial)].copy()
    levels = pd.DataFrame([parse_variant(v) for v in data["variant"]], index=data.index, columns=list(FACTORS))
    return pd.concat([data, levels], axis=1)
