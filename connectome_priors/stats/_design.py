"""The statistics' input and the ablation design: tidy frames, variant names and their three factors.

Input of every test in :mod:`connectome_priors.stats`: a tidy ``pandas.DataFrame``, one row per (run, metric), with
the columns ``variant, task, seed, metric, value`` (NaN/inf values = no value; dropped and counted). A variant name
spells three factors (the grammar is :mod:`connectome_priors.stats._variants`; :func:`parse_variant` reads the levels):
``W`` | ``W*`` | ``W!`` (init), then optionally ``D`` | ``D*`` (distance), then optionally ``C`` | ``C*`` (penalty).
:data:`CANONICAL_VARIANTS` are the paper's eleven, in its order.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ._variants import CANONICAL_VARIANTS, CONTROL_VARIANTS, NONE_LEVEL, Variant, is_factorial

FACTORS: tuple[str, ...] = ("w_variant", "d_variant", "c_variant")
FACTOR_LEVELS: dict[str, tuple[str, ...]] = {
    "w_variant": ("w", "w!", "w*"),
    "d_variant": ("d", "d*", NONE_LEVEL),
    "c_variant": ("c", "c*", NONE_LEVEL),
}
REQUIRED_COLUMNS: tuple[str, ...] = ("variant", "task", "seed", "metric", "value")


def parse_variant(name: str) -> dict[str, str]:
    """Factor levels of a variant name: ``{"w_variant", "d_variant", "c_variant"}`` (lower case, ``"none"`` if absent).

    Grammar (:class:`~connectome_priors.stats.Variant`): ``W`` | ``W*`` | ``W!``, then optionally ``D`` | ``D*``, then
    optionally ``C`` | ``C*``.

    Args:
        name: a variant name of the W/D/C design.

    Returns:
        The three factor levels.

    Raises:
        ValueError: ``name`` is not a variant name, or is a control (e.g. ``"Wdiag-D*C"``), whose init is no level
            of the design.

    Example::

        >>> from connectome_priors.stats import parse_variant
        >>> parse_variant("W!D*C*")
        {'w_variant': 'w!', 'd_variant': 'd*', 'c_variant': 'c*'}
        >>> parse_variant("W")
        {'w_variant': 'w', 'd_variant': 'none', 'c_variant': 'none'}
    """
    variant = Variant.from_name(name)
    if variant.control:
        raise ValueError(f"variant {name!r} is a control (init {variant.init}), not a cell of the W/D/C design")
    return variant.factors


def check_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The required columns of a tidy input frame, ``value`` as float.

    Args:
        df: the user's tidy frame.

    Returns:
        A copy with the columns :data:`REQUIRED_COLUMNS` only.

    Raises:
        TypeError: ``df`` is not a DataFrame.
        ValueError: a required column is missing, or a value is not numeric.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame with columns {REQUIRED_COLUMNS}; got {type(df).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"df lacks the column(s) {missing}; required: {list(REQUIRED_COLUMNS)}")
    out = df.loc[:, list(REQUIRED_COLUMNS)].copy()
    out["value"] = pd.to_numeric(out["value"], errors="raise").astype(float)
    return out


def variant_order(variants: Iterable[str]) -> list[str]:
    """The paper's variants first, in its order, then the ablation's controls in theirs, then any others
    alphabetically.

    Args:
        variants: names (repeats ignored).

    Returns:
        The names present, ordered.
    """
    present = list(dict.fromkeys(variants))
    known = CANONICAL_VARIANTS + CONTROL_VARIANTS
    return [v for v in known if v in present] + sorted(v for v in present if v not in known)


def level_key(level: str) -> tuple[bool, str]:
    """Sort key of a factor level: ``"none"`` last, the others alphabetically."""
    return (level == NONE_LEVEL, level)  # "none" last, as NaN sorts last in the paper's tables


def finite(values: pd.Series) -> np.ndarray:
    """The finite values of ``values`` as a float array, in their order."""
    x = values.to_numpy(dtype=float)
    return x[np.isfinite(x)]


def factor_frame(data: pd.DataFrame) -> pd.DataFrame:
    """Rows of the W/D/C variants with their factor levels (controls such as diagonal-only init are left out).

    Args:
        data: a checked tidy frame (:func:`check_frame`).

    Returns:
        Its rows of W/D/C variants with the columns :data:`FACTORS` added.
    """
    data = data[data["variant"].map(is_factorial)].copy()
    levels = pd.DataFrame([parse_variant(v) for v in data["variant"]], index=data.index, columns=list(FACTORS))
    return pd.concat([data, levels], axis=1)
