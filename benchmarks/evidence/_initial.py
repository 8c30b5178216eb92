"""Graph metrics of the starting matrices, so that "the networks develop X" can be judged against "they start with X".

The paper reports the graph metrics of the *trained* recurrent matrices. Its functional init already carries much of
that structure (a dominant, lognormal diagonal), so the trained numbers alone cannot say what training changed.
``initial_graph_metrics`` of the runner (:mod:`connectome_priors.benchmarks._ablation`) draws each variant's
starting ``W_rec`` exactly as training does (the variant's initializer,
:func:`connectome_priors.models.draw_w_rec` with the run seed; the corrected nonnegative start of
:func:`connectome_priors.models.stable_nonneg` where the arm uses it) and computes the same graph metrics with the
same settings as the ablation. The starting matrix depends on the variant and the seed only, not on the task.

``python -m connectome_priors evidence initial --arm compat-free`` writes ``docs/results/<arm>/initial.csv``
(``variant, seed, metric, value``); it is an input of ``evidence rebuild`` like the records (computing it needs
JAX and the field, the rebuild does not).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from connectome_priors.benchmarks._schema import GRAPH_METRICS

from ._records import Arm, RecordsError
from ._tables import write_csv

INITIAL = "initial.csv"
INITIAL_COLUMNS = ("variant", "seed", "metric", "value")


def write_initial(arm: Arm, results: Path, frame: pd.DataFrame) -> Path:
    """Write the arm's starting-matrix metrics (``initial_graph_metrics`` of the runner) as
    ``<results>/<arm>/initial.csv``.

    Args:
        arm: the arm.
        results: the committed results folder (``docs/results``).
        frame: the tidy metrics, columns :data:`INITIAL_COLUMNS`.

    Returns:
        The file written.

    Raises:
        RecordsError: ``frame`` lacks a column.
    """
    missing = [c for c in INITIAL_COLUMNS if c not in frame.columns]
    if missing:
        raise RecordsError(f"initial metrics of arm {arm.name!r}: missing columns {missing}")
    return write_csv(frame[list(INITIAL_COLUMNS)], Path(results) / arm.name / INITIAL, float_format="%.9g")


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
