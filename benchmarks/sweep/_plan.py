"""Planning a sweep: cells, their idempotent run keys, what is finished, what is pending.

The unit of work is a *cell*: one field, one sign arm, one task and a group of variants, with all its seeds trained
together in one compiled program. A sweep is the list of cells of ``fields x signs x tasks x variant groups``; every
run inside a cell has an idempotent key ``(field, sign, task, variant, seed)`` and is stored (write-once, by the run
store of :mod:`connectome_priors.benchmarks._run_store`) in the ablation folder ``<out>/<sign>/<field>``. A cell is
pending while any of
its runs is missing, and a partly written cell shrinks to the seeds still missing::

    >>> cells = plan_cells(["5_3_8"], SweepOptions(seeds=3, tasks=("Task1",), variants=("W",)))
    >>> pending_cells(cells, {RunKey("5_3_8", "free", "Task1", "W", 1)})[0].seeds
    (0, 2)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from connectome_priors.benchmarks._run_store import RUN_STORE, field_dir, variant_slug
from connectome_priors.benchmarks._schema import QUICK, TASKS, AblationConfig
from connectome_priors.benchmarks._variants import variant_names

from ._cost_model import run_work

VARIANTS: tuple[str, ...] = tuple(variant_names())  # the paper's eleven, canonical order


def known_variants(controls: bool = False) -> tuple[str, ...]:
    """The eleven variants, plus the ablation's diagnostic controls when ``controls``."""
    return tuple(variant_names(controls))


class RunKey(NamedTuple):
    """Idempotent identity of one training run inside a sweep."""

    field: str
    sign: str
    task: str
    variant: str
    seed: int


@dataclasses.dataclass(frozen=True)
class Cell:
    """One unit of work: a variant group on one task of one field and arm, all seeds at once."""

    field: str
    sign: str
    task: str
    variants: tuple[str, ...]
    seeds: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.variants:
            raise ValueError(f"Cell {self.field}/{self.task}: variants must not be empty")
        if not self.seeds:
            raise ValueError(f"Cell {self.field}/{self.task}: seeds must not be empty")

    @property
    def key(self) -> str:
        """Stable name of the cell (seeds excluded: a resumed cell keeps its name)."""
        group = "+".join(variant_slug(v) for v in self.variants)
        return f"{self.field}__{self.sign}__{self.task}__{group}"

    def run_keys(self) -> tuple[RunKey, ...]:
        return tuple(RunKey(self.field, self.sign, self.task, v, s)
                     for v in self.variants for s in self.seeds)

    def with_seeds(self, seeds: Iterable[int]) -> Cell:
        return dataclasses.replace(self, seeds=tuple(sorted(set(seeds))))


@dataclasses.dataclass(frozen=True)
class SweepOptions:
    """Options shared by every cell of a sweep (the ablation's options plus sweep sizes).

    ``quick`` asks the ablation for its small-but-real configuration (few trials per epoch);
    ``seeds``/``epochs`` are explicit so that a cell's cost is known to the cost model.
    """

    seeds: int = 20
    epochs: int = 10
    tasks: tuple[str, ...] = TASKS
    signs: tuple[str, ...] = ("free",)
    variants: tuple[str, ...] = VARIANTS  # plus the control names when ``controls``
    functional: str = "corr"
    reference_compat: bool = False
    controls: bool = False
    quick: bool = False
    group: str = "variant"  # "variant": one variant per cell; "all": all variants in one cell
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["extra"] = dict(self.extra)
        return d


def resolve_fields(spec: str | Sequence[str]) -> tuple[str, ...]:
    """``"all"`` -> the 56 published fields (registry order); ``"a,b"`` -> validated ids."""
    from connectome_priors.fields import field_ids

    known = field_ids()
    if isinstance(spec, str):
        if spec.strip() == "all":
            return known
        spec = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [f for f in spec if f not in known]
    if unknown:
        raise ValueError(f"--fields: unknown field id(s) {unknown}; known ids are the "
                         f"{len(known)} published fields, e.g. {', '.join(known[:4])}, ... (or 'all')")
    if not spec:
        raise ValueError("--fields: no field given")
    return tuple(dict.fromkeys(spec))


def variant_groups(variants: Sequence[str], group: str) -> list[tuple[str, ...]]:
    """Split variants into cells: one each (``"variant"``) or all together (``"all"``)."""
    if group == "variant":
        return [(v,) for v in variants]
    if group == "all":
        return [tuple(variants)]
    raise ValueError(f"group must be 'variant' or 'all', got {group!r}")


def plan_cells(fields: Sequence[str], options: SweepOptions) -> list[Cell]:
    """Every cell of a sweep, in a stable order (field, sign, task, variant group).

    Example::

        >>> cells = plan_cells(["5_3_8"], SweepOptions(seeds=2, tasks=("Task1",), variants=("W", "WD")))
        >>> [c.key for c in cells], cells[0].seeds
        (['5_3_8__free__Task1__W', '5_3_8__free__Task1__WD'], (0, 1))
    """
    seeds = tuple(range(options.seeds))
    return [Cell(f, sign, task, grp, seeds)
            for f in fields for sign in options.signs for task in options.tasks
            for grp in variant_groups(options.variants, options.group)]


def pending_cells(cells: Iterable[Cell], finished: set[RunKey]) -> list[Cell]:
    """Cells with at least one missing run, each shrunk to the seeds that still miss a run.

    Example::

        >>> cell = Cell("5_3_8", "free", "Task1", ("W",), (0, 1, 2))
        >>> pending_cells([cell], {RunKey("5_3_8", "free", "Task1", "W", 1)})[0].seeds
        (0, 2)
    """
    out = []
    for cell in cells:
        missing = {k.seed for k in cell.run_keys() if k not in finished}
        if missing:
            out.append(cell.with_seeds(missing))
    return out


def finished_runs(out_dir: Path, fields: Iterable[str], signs: Iterable[str], store=None) -> set[RunKey]:
    """Keys of every run already stored in a sweep folder."""
    store = store or RUN_STORE
    done = set()
    for f in fields:
        for sign in signs:
            for task, variant, seed in store.finished(field_dir(out_dir, f, sign)):
                done.add(RunKey(f, sign, task, variant, int(seed)))
    return done


def field_sizes(fields: Iterable[str]) -> dict[str, int]:
    """Neurons per field from the registry (``connectome_priors.list_fields``), loading no data."""
    from connectome_priors.fields import list_fields

    table = list_fields().set_index("field")["n_neurons"]
    return {f: int(table[f]) for f in fields if f in table.index and table[f] == table[f]}


def ablation_sizes(options: SweepOptions) -> dict[str, int]:
    """Training/validation/test trials per run, as :func:`connectome_priors.benchmarks._ablation.config_from_sweep`
    will set them (the ablation's defaults, its ``QUICK`` sizes, then ``options.extra``)."""
    sizes = {k: int(getattr(AblationConfig, k)) for k in ("n_train", "n_val", "n_test")}
    if options.quick:
        sizes.update({k: QUICK[k] for k in sizes if k in QUICK})
    sizes.update({k: int(v) for k, v in options.extra.items() if k in sizes})
    return sizes


def sweep_work(options: SweepOptions) -> float:
    """Work of one run of this sweep (:func:`connectome_priors.benchmarks.sweep._cost_model.run_work`)."""
    return run_work(options.epochs, **ablation_sizes(options))
