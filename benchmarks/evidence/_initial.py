"""Graph metrics of the starting matrices, so that "the networks develop X" can be judged against "they start with X".

The paper reports the graph metrics of the *trained* recurrent matrices. Its functional init already carries much of
that structure (a dominant, lognormal diagonal), so the trained numbers alone cannot say what training changed.
:func:`initial_metrics` draws each variant's starting ``W_rec`` exactly as training does (the variant's initializer,
:func:`connectome_priors.models.draw_w_rec` with the run seed; the corrected nonnegative start of
:func:`connectome_priors.models.stable_nonneg` where the arm uses it) and computes the same graph metrics with the
same settings as the ablation. The starting matrix depends on the variant and the seed only, not on the task.

``python -m connectome_priors evidence initial --arm compat-free`` writes ``docs/results/<arm>/initial.csv``
(``variant, seed, metric, value``); it is an input of ``evidence rebuild`` like the records (computing it needs
JAX and the field, the rebuild does not).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from connectome_priors.benchmarks._schema import GRAPH_METRICS, AblationConfig

from ._records import ARM_FIELD, Arm, RecordsError
from ._tables import write_csv

INITIAL = "initial.csv"
INITIAL_COLUMNS = ("variant", "seed", "metric", "value")


def initial_metrics(arm: Arm, seeds: Sequence[int], variants: Sequence[str] | None = None,
                    data_dir: str | None = None) -> pd.DataFrame:
    """Graph metrics of each variant's starting recurrent matrix, per seed.

    Args:
        arm: the arm (field, sign, mode and functional measure of its runs).
        seeds: the run seeds.
        variants: the variants (default: the arm's).
        data_dir: folder of published fields (default: the package's loader default).

    Returns:
        A tidy frame with :data:`INITIAL_COLUMNS`, variants in the arm's order, then seeds, then metrics.
    """
    from connectome_priors import models
    from connectome_priors.benchmarks._ablation import FieldPriors, _graph_metrics, build_prior

    config = AblationConfig(field=ARM_FIELD, sign=arm.sign, functional=arm.functional,
                            reference_compat=arm.reference_compat, data_dir=data_dir)
    priors = FieldPriors(config)
    rows = []
    for variant in variants or arm.variants():
        init, _ = build_prior(variant, priors)
        for seed in seeds:
            w = np.asarray(models.draw_w_rec(init, priors.n, int(seed)), np.float32)
            if arm.sign == "nonneg" and not arm.reference_compat:
                w = np.asarray(models.stable_nonneg(w), np.float32)  # the corrected nonnegative start
            for metric, value in _graph_metrics(w, arm.reference_compat).items():
                rows.append((variant, int(seed), metric, float(value)))
    return pd.DataFrame(rows, columns=list(INITIAL_COLUMNS))


def write_initial(arm: Arm, results: Path, data_dir: str | None = None) -> Path:
    """Compute :func:`initial_metrics` for the arm's seeds and write ``<results>/<arm>/initial.csv``.

    Args:
        arm: the arm.
        results: the committed results folder (``docs/results``).
        data_dir: folder of published fields.

    Returns:
        The file written.
    """
    frame = initial_metrics(arm, range(arm.seeds), data_dir=data_dir)
    return write_csv(frame, Path(results) / arm.name / INITIAL, float_format="%.9g")


def read_initial(folder: Path) -> pd.DataFrame | None:
    """``<folder>/initial.csv``, checked; None when the arm has none yet.

    Args:
        folder: ``docs/results/<arm>``.

    Returns:
        The tidy frame, or None.

    Raises:
        RecordsError: the file lacks a column, names an unknown metric, or holds a non-numeric value.
    """
    path = Path(folder) / INITIAL
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise RecordsError(f"{path}: unreadable ({exc})") from None
    missing = [c for c in INITIAL_COLUMNS if c not in frame.columns]
    if missing:
        raise RecordsError(f"{path}: missing columns {missing}; regenerate it with `python -m connectome_priors "
                           f"evidence initial --arm {Path(folder).name}`")
    unknown = sorted(set(frame["metric"]) - set(GRAPH_METRICS))
    if unknown:
        raise RecordsError(f"{path}: unknown metrics {unknown} (expected {list(GRAPH_METRICS)})")
    if not pd.api.types.is_numeric_dtype(frame["value"]):
        raise RecordsError(f"{path}: column 'value' is not numeric")
    return frame
