"""What a run is: tasks, metrics, the configuration that makes runs comparable, and its hash.

The one module the runner (:mod:`connectome_priors.benchmarks._ablation`), the run store
(:mod:`connectome_priors.benchmarks._run_store`), the report
(:mod:`connectome_priors.benchmarks.report._write`) and the sweep read for these constants.
:meth:`AblationConfig.config_hash` names a
configuration in every stored ``config.json`` and run: its hashed fields, their JSON form and the hash function must
not change, or stores written before stop resuming (``tests/test_ablation.py`` pins known values).

    >>> AblationConfig(field="5_3_8", seeds=(0,), epochs=1, n_train=256, n_val=128, n_test=128).config_hash()
    '78e345ffa3dd8aeb'
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from connectome_priors._protocol import PAPER, Protocol
from connectome_priors._protocol import QUICK as QUICK_PROTOCOL
from connectome_priors.fields import check_field
from connectome_priors.graph import GRAPH_METRIC_NAMES
from connectome_priors.priors import check_sign

from ._variants import FUNCTIONAL_MEASURES, get_variant, variant_names

PROTOCOL_VERSION = 1  # bump when a change makes stored runs incomparable
TASKS = ("Task1", "Task2", "Task3")
TASK_NAMES = {"Task1": "OneChoiceInference", "Task2": "PerceptualDecisionMaking", "Task3": "GoNoGo"}
SIGNS = ("free", "nonneg")  # the ablation's sign arms, out of connectome_priors.priors.SIGNS
GRAPH_METRICS: tuple[str, ...] = GRAPH_METRIC_NAMES  # ("Entropy", "Modularity", "SmallWorldness", "Assortativity")
# Per-run scalar outcomes, named as in the published ``<metric>_raw.csv`` files (plus our extras).
# "Loss"/"Validation_Loss" include the penalty, as Keras' history did; the *_Task_Loss split it.
RUN_METRICS = (
    "Accuracy", "Loss", "Task_Loss", "Penalty",
    "Validation_Accuracy", "Validation_Loss", "Validation_Task_Loss",
    "Test_Accuracy", "Test_Loss",
) + GRAPH_METRICS
# Per-epoch series stored in every run's ``history`` (models.train's metrics)
HISTORY_KEYS = ("train_acc", "train_loss", "train_penalty", "val_acc", "val_loss", "test_acc",
                "test_loss", "penalty")
PAPER_SEEDS = 20  # seeds per cell of the paper's tables
# ``--quick``: 2 seeds at the small protocol (:data:`connectome_priors._protocol.QUICK`)
QUICK = {"seeds": 2, **{k: getattr(QUICK_PROTOCOL, k) for k in ("epochs", "n_train", "n_val", "n_test")}}
# accuracy of the best solver that ignores the past (see docs/reference_protocol.md, Tasks)
NO_MEMORY_ACCURACY = {"Task1": 0.625, "Task2": 0.5, "Task3": 0.5}


def parse_tasks(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"1,3"`` / ``"Task1,Task3"`` / ``["Task2"]`` -> ``("Task1", "Task3")`` (paper numbering)."""
    parts = [p.strip() for p in (text.split(",") if isinstance(text, str) else text) if str(p).strip()]
    out = []
    for p in parts:
        name = p if str(p).startswith("Task") else f"Task{p}"
        if name not in TASKS:
            raise ValueError(f"--tasks: unknown task {p!r}; expected a subset of 1,2,3 "
                             "(paper numbering: 1 One-Choice Inference, 2 PDM, 3 Go/NoGo)")
        out.append(name)
    if not out:
        raise ValueError("--tasks: no task given")
    return tuple(dict.fromkeys(out))


@dataclasses.dataclass(frozen=True)
class AblationConfig:
    """Everything that defines an ablation run (JSON-serializable).

    The defaults are the paper's: field 6_6_2, 20 seeds, corr⊙STTC functional init and the training
    protocol :data:`connectome_priors._protocol.PAPER` (whose fields are flattened here, so that the
    stored ``config.json`` files and the hash keep their form); :attr:`protocol` gives it back.
    """

    field: str = "6_6_2"
    seeds: tuple[int, ...] = tuple(range(PAPER_SEEDS))
    epochs: int = PAPER.epochs
    tasks: tuple[str, ...] = TASKS
    variants: tuple[str, ...] = tuple(variant_names())
    sign: str = "free"
    functional: str = "corr"
    reference_compat: bool = False
    n_train: int = PAPER.n_train
    n_val: int = PAPER.n_val
    n_test: int = PAPER.n_test
    batch_size: int = PAPER.batch_size
    lr: float = PAPER.lr
    lam: float = PAPER.lam
    lam_emd: float = PAPER.lam_emd
    data_dir: str | None = None
    seeds_per_call: int | None = None
    save_weights: bool = True
    quick: bool = False
    model: str | None = None  # None: the fast built-in RNN; else a module factory "package.module:factory"

    def __post_init__(self) -> None:
        check_field(self.field)  # an unknown field id is refused before anything is written
        check_sign(self.sign, SIGNS)
        if self.functional not in FUNCTIONAL_MEASURES:
            raise ValueError(f"functional={self.functional!r} is not one of {tuple(FUNCTIONAL_MEASURES)}")
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        object.__setattr__(self, "tasks", parse_tasks(self.tasks))
        object.__setattr__(self, "variants", tuple(get_variant(v).name for v in self.variants))
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct and non-empty, got {self.seeds}")
        # validated (and normalised: 5120.0 / np.int64 hash like 5120) by the one Protocol
        protocol = Protocol(**{name: _number(getattr(self, name)) for name in _PROTOCOL_FIELDS})
        for name in _PROTOCOL_FIELDS:
            object.__setattr__(self, name, getattr(protocol, name))
        object.__setattr__(self, "reference_compat", bool(self.reference_compat))
        if self.seeds_per_call is not None and self.seeds_per_call < 1:
            raise ValueError(f"seeds_per_call must be >= 1, got {self.seeds_per_call}")
        if self.model is not None:
            mod, sep, attr = str(self.model).partition(":")
            if not (mod and sep and attr):
                raise ValueError(f"model={self.model!r} must be an import path 'package.module:factory'")
            object.__setattr__(self, "model", str(self.model))

    # the fields that make two runs comparable (seeds, tasks, variants only select runs)
    _HASHED = ("field", "sign", "functional", "reference_compat", "epochs", "n_train", "n_val",
               "n_test", "batch_size", "lr", "lam", "lam_emd")

    def identity(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self._HASHED}
        d["protocol_version"] = PROTOCOL_VERSION
        if self.model is not None:  # only when set, so stores of the built-in model keep their hash
            d["model"] = self.model
        if self.sign == "nonneg" and not self.reference_compat:
            # the corrected nonneg start (RNNSpec.nonneg_rescale): runs made before it are another configuration
            d["nonneg_start"] = "rescaled"
        return d

    def config_hash(self) -> str:
        """Short sha256 of :meth:`identity` (what a stored run must match to be reused)."""
        text = json.dumps(self.identity(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["seeds"] = list(self.seeds)
        d["tasks"] = list(self.tasks)
        d["variants"] = list(self.variants)
        d["config_hash"] = self.config_hash()
        return d

    @property
    def protocol(self) -> Protocol:
        """The training protocol of these runs."""
        return Protocol(**{name: getattr(self, name) for name in _PROTOCOL_FIELDS})

    @property
    def measure(self) -> str:
        return FUNCTIONAL_MEASURES[self.functional]


_PROTOCOL_FIELDS = tuple(f.name for f in dataclasses.fields(Protocol))


def _number(value: Any) -> Any:
    """numpy scalars as Python numbers (Protocol accepts int and float)."""
    return value.item() if hasattr(value, "item") and not isinstance(value, (int, float)) else value


def run_key(config: AblationConfig, variant: str, task: str, seed: int) -> str:
    """Hash naming one run: the configuration hash plus (variant, task, seed)."""
    text = f"{config.config_hash()}|{variant}|{task}|{int(seed)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]
