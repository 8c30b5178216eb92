"""Save / load trained models in a pickle-free format: one ``.npz`` file.

Layout of the archive (``numpy.savez_compressed``, read with ``allow_pickle=False``):

* ``params/<name>``   -- final raw parameters stacked over seeds: ``w_in`` (S, C, N),
  ``w_rec`` (S, N, N; for ``sign="dale"`` the parameter ``V``), ``b`` (S, N), ``w_out`` (S, N, K),
  ``b_out`` (S, K);
* ``w_rec_effective`` -- the recurrent matrices the networks use (S, N, N), indexed [pre, post];
* ``metrics/<name>``  -- per-epoch metrics (S, E);
* ``seeds`` (S,), ``failed_step`` (S,);
* ``config_json``     -- a 0-d unicode string with JSON: ``format`` ("connectome-priors/rnn"),
  ``format_version``, ``spec`` (RNNSpec fields), ``training`` (the training config), ``status``,
  ``versions`` (connectome-priors, jax, numpy, optax, brainstate).

Example::

    >>> import tempfile, os
    >>> from models import RNNSpec, train                        # doctest: +SKIP
    >>> res = train(RNNSpec(n_hidden=8), "Task2", epochs=1)      # doctest: +SKIP
    >>> save_result(res, "run.npz"); res2 = load_result("run.npz")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

FORMAT = "connectome-priors/rnn"
FORMAT_VERSION = 1


def _versions() -> dict:
    import importlib.metadata as md

    out = {}
    for dist in ("connectome-priors", "jax", "numpy", "optax", "brainstate"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = None
    return out


def save_result(result, path: str | os.PathLike) -> Path:
    """Write ``result`` (a :class:`TrainResult`) to ``path`` (``.npz`` added if missing)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "spec": result.spec.to_dict(),
        "training": result.config,
        "status": list(result.status),
        "wall_time_s": float(result.wall_time_s),
        "versions": _versions(),
    }
    arrays = {f"params/{k}": np.asarray(v) for k, v in result.params.items()}
    arrays.update({f"metrics/{k}": np.asarray(v) for k, v in result.metrics.items()})
    arrays["w_rec_effective"] = np.asarray(result.w_rec)
    arrays["seeds"] = np.asarray(result.seeds)
    arrays["failed_step"] = np.asarray(result.failed_step)
    arrays["config_json"] = np.array(json.dumps(meta, default=str))
    path.parent.mkdir(parents=True, exist_ok=True)
    # atomic: write a temporary file beside the target, then rename (a crash leaves no torn file)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_result(path: str | os.PathLike):
    """Read a file written by :func:`save_result` back into a :class:`TrainResult`."""
    from ._rnn import RNNSpec
    from ._train import TrainResult

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
        seeds, failed_step = z["seeds"], z["failed_step"]
    result = TrainResult(
        spec=RNNSpec.from_dict(meta["spec"]), seeds=seeds, metrics=metrics, params=params,
        status=list(meta["status"]), failed_step=failed_step, config=meta["training"],
        wall_time_s=float(meta.get("wall_time_s", float("nan"))),
    )
    result.versions = meta.get("versions", {})
    return result
