"""The training protocol as one typed object, shared by the trainer, the benchmarks, the main job
and the committed evidence (JAX-free).

The defaults are the paper's (its Keras ``fit``, see ``docs/reference_protocol.md``): 10 epochs of
5,120 training trials in batches of 128 (40 Adam steps per epoch, 400 in all), learning rate
1e-3, 2,560 validation and 2,560 held-out test trials, penalty strengths λ = 0.3 and
λ_EMD = 0.1.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any


@dataclasses.dataclass(frozen=True)
class Protocol:
    """How a network is trained and evaluated.

    Attributes:
        epochs: passes over the training trials.
        batch_size: trials per optimizer step.
        n_train: training trials per seed (a remainder smaller than a batch is dropped).
        n_val: validation trials per seed, evaluated after every epoch.
        n_test: held-out test trials per seed, evaluated after the last epoch.
        lr: Adam learning rate.
        lam: strength λ of the wiring / communicability / L1 penalty.
        lam_emd: strength λ_EMD of the EMD-to-empirical-communicability penalty.

    Raises:
        ValueError: a count that is not a positive integer, ``n_train < batch_size``, a learning
            rate that is not finite and positive, or a penalty strength that is negative or not finite.

    Example:
        >>> p = Protocol()
        >>> p.steps_per_epoch, p.total_steps
        (40, 400)
        >>> Protocol(epochs=2, n_train=256, batch_size=64).total_steps
        8
        >>> Protocol(lr=0)
        Traceback (most recent call last):
        ...
        ValueError: Protocol: lr must be a finite number > 0, got 0
    """

    epochs: int = 10
    batch_size: int = 128
    n_train: int = 5120
    n_val: int = 2560
    n_test: int = 2560
    lr: float = 1e-3
    lam: float = 0.3
    lam_emd: float = 0.1

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "n_train", "n_val", "n_test"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < 1:
                raise ValueError(f"Protocol: {name} must be a positive integer, got {value!r}")
            object.__setattr__(self, name, int(value))
        if self.n_train < self.batch_size:
            raise ValueError(f"Protocol: n_train={self.n_train} is smaller than batch_size={self.batch_size}")
        lr = self.lr
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"Protocol: lr must be a finite number > 0, got {lr!r}")
        object.__setattr__(self, "lr", float(lr))
        for name in ("lam", "lam_emd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"Protocol: {name} must be a finite number >= 0, got {value!r}")
            object.__setattr__(self, name, float(value))

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps per epoch, ``n_train // batch_size``."""
        return self.n_train // self.batch_size

    @property
    def total_steps(self) -> int:
        """Optimizer steps in all, ``epochs * steps_per_epoch``."""
        return self.epochs * self.steps_per_epoch

    def replace(self, **changes: Any) -> Protocol:
        """A copy with ``changes`` (validated again); ``None`` values are ignored.

        Example:
            >>> Protocol().replace(epochs=2, lr=None).epochs
            2
        """
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return dataclasses.asdict(self)


#: The paper's protocol.
PAPER = Protocol()

#: The short protocol: the paper's trials, batches, optimizer and penalties, but 2 epochs (80 Adam steps) instead
#: of 10, with 512 validation and 1,024 held-out test trials. At 10 epochs Go/NoGo saturates (every W*-family run
#: reaches 1.0 from epoch 2), so final accuracy cannot separate priors that all learn; within 80 steps the learn
#: rate and the learning-curve AUC still can. The cross-field arm runs it (``docs/cross_field.md``).
SHORT = Protocol(epochs=2, n_val=512, n_test=1024)

#: The named protocols of ``--protocol`` (``ablation`` and ``sweep``).
PROTOCOLS: dict[str, Protocol] = {"paper": PAPER, "short": SHORT}

#: A small protocol for quick checks of the whole pipeline (not for conclusions).
QUICK = Protocol(epochs=2, n_train=1280, n_val=512, n_test=512)
