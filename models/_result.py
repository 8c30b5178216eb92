"""``TrainResult`` and its pickle-free file format (one ``.npz``) -- what :func:`models.train` returns.

Layout of the archive (``numpy.savez_compressed``, read with ``allow_pickle=False``):

* ``params/<name>``   -- final raw parameters stacked over seeds. The built-in network (an
  ``RNNSpec`` / ``CorticalRNN``): ``w_in`` (S, C, N), ``w_rec`` (S, N, N; for ``sign="dale"`` the
  parameter ``V``), ``b`` (S, N), ``w_out`` (S, N, K), ``b_out`` (S, K). Any other module: one
  entry per parameter leaf, named by its attribute path (``rnn.Wh``, ``out.weight.weight``, ...);
* ``w_rec_effective`` -- the recurrent matrices the networks use (S, N, N), indexed [pre, post];
* ``metrics/<name>``  -- per-epoch metrics (S, E);
* ``curves/<name>``   -- the learning curve: ``step`` (P,), the global step at the end of each block of
  ``curve_every`` optimizer steps, and ``train_acc`` / ``train_loss`` (S, P), their means over the block;
* ``seeds`` (S,), ``failed_step`` (S,);
* ``config_json``     -- a 0-d unicode string with JSON: ``format`` ("connectome-priors/rnn"),
  ``format_version`` (1; 2 for a result without an ``RNNSpec``), ``spec`` (RNNSpec fields
  or null), ``training`` (the training config: the protocol, ``model`` names the factory and
  ``w_rec_name`` the parameter the regularizers saw), ``status``, ``versions``.

Example::

    >>> from connectome_priors.models import RNNSpec, train, save_result, load_result   # doctest: +SKIP
    >>> res = train(RNNSpec(n_hidden=8), "Task2", epochs=1)           # doctest: +SKIP
    >>> save_result(res, "run.npz"); res2 = load_result("run.npz")     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from connectome_priors._atomic import atomic_path

from ._rnn import RNNSpec

FORMAT = "connectome-priors/rnn"
FORMAT_VERSION = 2  # newest version this library reads; results with an RNNSpec are still written as 1


@dataclasses.dataclass
class TrainResult:
    """Outcome of :func:`models.train` for all seeds.

    ``metrics[name]`` has shape (seed, epoch) (see ``METRIC_NAMES``; also readable as attributes,
    ``result.val_acc``); ``params`` holds the final raw parameters stacked over seeds (a dict
    name -> (S, ...) array); ``w_rec`` the effective recurrent matrices (S, N, N); ``status[i]``
    is ``"ok"`` or says where and why seed ``i`` stopped; ``config`` the full training
    configuration (JSON-serializable). ``spec`` is the ``RNNSpec`` of a :class:`models.CorticalRNN`
    network, else ``None``. ``curves`` is the learning curve every ``curve_every`` optimizer steps:
    ``step`` (P,) and ``train_acc`` / ``train_loss`` (S, P), block means over the training batches
    (NaN after a seed stopped).
    """

    spec: RNNSpec | None
    seeds: np.ndarray
    metrics: dict[str, np.ndarray]
    params: dict[str, np.ndarray]
    status: list[str]
    failed_step: np.ndarray
    config: dict
    wall_time_s: float = float("nan")
    w_rec_effective: np.ndarray | None = None
    curves: dict[str, np.ndarray] | None = None

    def __getattr__(self, name):
        metrics = self.__dict__.get("metrics", {})
        if name in metrics:
            return metrics[name]
        raise AttributeError(name)

    @property
    def w_rec(self) -> np.ndarray:
        """The effective recurrent matrices (S, N, N), indexed [pre, post]."""
        if self.w_rec_effective is not None:
            return np.asarray(self.w_rec_effective)
        import jax
        import jax.numpy as jnp

        from ._rnn import effective_w_rec

        return np.asarray(jax.vmap(lambda p: effective_w_rec(p, self.spec))(
            {k: jnp.asarray(v) for k, v in self.params.items()}))

    @property
    def ok(self) -> np.ndarray:
        """Boolean (S,): which seeds finished with status ``"ok"``."""
        return np.array([s == "ok" for s in self.status])

    def seed_params(self, i: int) -> dict[str, np.ndarray]:
        """The parameters (and buffers) of seed index ``i``."""
        return {k: v[i] for k, v in self.params.items()}

    def model(self, i: int = 0, factory=None):
        """The trained network of seed index ``i`` with its trained parameters loaded.

        A :class:`CorticalRNN` when ``spec`` is set. For a user module the caller passes the
        ``factory`` (a callable, or an import path the caller chose): a result file never names code
        that runs, so the ``"model"`` name stored in the file is only compared with the caller's,
        never imported (a file received from someone else is safe to open and use).

        Args:
            i: seed index.
            factory: the module factory that built the network (user modules only).

        Returns:
            The module.

        Raises:
            ValueError: no ``factory`` for a user module, or one whose name differs from the stored one.
        """
        if self.spec is not None and set(self.params) == {"w_in", "w_rec", "b", "w_out", "b_out"}:
            from ._module import CorticalRNN

            return CorticalRNN.from_params(self.spec, self.seed_params(i))
        from ._states import build_module, factory_ref, load_params, resolve_model

        stored = self.config.get("model")
        if factory is None:
            raise ValueError(f"this result was trained with the factory {stored!r}; a result file never names "
                             "code to run, so pass it: result.model(i, factory=your_factory)")
        given = factory if isinstance(factory, str) else factory_ref(factory)
        if stored and given and str(given) != str(stored):
            raise ValueError(f"factory {given!r} is not the one this result was trained with ({stored!r})")
        module = build_module(resolve_model(factory), int(self.seeds[i]), self.config.get("factory_kwargs", {}))
        load_params(module, self.seed_params(i))
        return module

    def save(self, path: str | os.PathLike) -> Path:
        """:func:`save_result` of this result; returns the file written."""
        return save_result(self, path)


def _versions() -> dict:
    import importlib.metadata as md

    out = {}
    for dist in ("connectome-priors", "jax", "numpy", "optax", "brainstate"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = None
    return out


def save_result(result: TrainResult, path: str | os.PathLike) -> Path:
    """Write ``result`` to one pickle-free ``.npz`` file, atomically (see the module docstring).

    Args:
        result: a :class:`TrainResult`.
        path: the file (``.npz`` is appended when missing; folders are created).

    Returns:
        The path written.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz")
    meta = {
        "format": FORMAT,
        "format_version": 1 if result.spec is not None else 2,
        "spec": None if result.spec is None else result.spec.to_dict(),
        "training": result.config,
        "status": list(result.status),
        "wall_time_s": float(result.wall_time_s),
        "versions": _versions(),
    }
    arrays = {f"params/{k}": np.asarray(v) for k, v in result.params.items()}
    arrays.update({f"metrics/{k}": np.asarray(v) for k, v in result.metrics.items()})
    arrays.update({f"curves/{k}": np.asarray(v) for k, v in (result.curves or {}).items()})
    arrays["w_rec_effective"] = np.asarray(result.w_rec)
    arrays["seeds"] = np.asarray(result.seeds)
    arrays["failed_step"] = np.asarray(result.failed_step)
    arrays["config_json"] = np.array(json.dumps(meta, default=str))
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "xb") as fh:  # a crash leaves no torn file
        np.savez_compressed(fh, **arrays)
    return path


def load_result(path: str | os.PathLike) -> TrainResult:
    """Read a file written by :func:`save_result` back into a :class:`TrainResult`.

    Args:
        path: the ``.npz`` file.

    Returns:
        The result (``result.versions``: the library versions that wrote it).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a connectome-priors model file, or a newer format version.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved model at {path}")
    with np.load(path, allow_pickle=False) as z:
        if "config_json" not in z.files:
            raise ValueError(f"{path} is not a connectome-priors model file (no config_json entry)")
        meta = json.loads(str(z["config_json"]))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
        if int(meta.get("format_version", 0)) > FORMAT_VERSION:
            raise ValueError(f"{path}: format_version {meta['format_version']} is newer than this library's "
                             f"{FORMAT_VERSION}")
        params = {k.split("/", 1)[1]: z[k] for k in z.files if k.startswith("params/")}
        metrics = {k.split("/", 1)[1]: z[k] for k in z.files if k.startswith("metrics/")}
        curves = {k.split("/", 1)[1]: z[k] for k in z.files if k.startswith("curves/")} or None
        seeds, failed_step = z["seeds"], z["failed_step"]
        w_eff = z["w_rec_effective"] if meta.get("spec") is None else None
    result = TrainResult(
        spec=None if meta.get("spec") is None else RNNSpec.from_dict(meta["spec"]), seeds=seeds,
        metrics=metrics, params=params, status=list(meta["status"]), failed_step=failed_step,
        config=meta["training"], wall_time_s=float(meta.get("wall_time_s", float("nan"))),
        w_rec_effective=w_eff, curves=curves,
    )
    result.versions = meta.get("versions", {})
    return result
