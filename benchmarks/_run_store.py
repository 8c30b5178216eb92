"""The run store: one JSON (+ one ``.npz``) per finished run, written once and atomically, and ``config.json``.

Layout of an ablation folder (the sweep's ``<out>/<sign>/<field>`` folders are ablation folders too)::

    config.json                                the configuration (written once; its config_hash guards the folder)
    runs/<task>/<variant-slug>/seed_0000.json  one run: metrics, per-epoch history, status
    runs/<task>/<variant-slug>/seed_0000.npz   its trained W_rec (float32, [pre, post])

Every file is written to a temporary file in the same folder and renamed (``os.replace``), so a reader or a
resumed run sees a whole file or none. Resuming needs no journal: a run is finished when its JSON exists.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from connectome_priors._atomic import write_bytes

from ._schema import SIGNS, TASKS, AblationConfig
from ._variants import get_variant


def variant_slug(variant: str) -> str:
    """File-system-safe variant name (``W*D*C`` -> ``WstarDstarC``, ``W!`` -> ``Wperm``)."""
    return variant.replace("*", "star").replace("!", "perm")


def json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def _sanitize(obj: Any) -> Any:
    """Plain JSON types, with NaN/inf -> None so the file stays standard JSON (read back as NaN)."""
    if isinstance(obj, Mapping):
        return {str(k): _sanitize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_sanitize(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _sanitize(obj.tolist())
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


class RunStore:
    """One JSON file (+ one ``.npz`` with ``W_rec``) per run under ``<out>/runs/``.

    A run is finished when its JSON exists; the JSON is written last, atomically, so a killed
    process leaves either a complete run or none. Shared by the ablation and the sweep.
    """

    @staticmethod
    def path(out_dir: Path, task: str, variant: str, seed: int) -> Path:
        """``<out>/runs/<task>/<variant-slug>/seed_<seed>.json``; every part is checked first.

        Task, variant and seed may come from data (records, run files): only a known task, a known
        variant name and a non-negative integer seed become path parts, so no record can name a
        file outside the store.

        Raises:
            ValueError: an unknown task or variant, or a seed that is not a non-negative integer.
        """
        if task not in TASKS:
            raise ValueError(f"run task {task!r} is not one of {TASKS}")
        name = get_variant(variant).name  # raises ValueError naming the unknown variant
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
            raise ValueError(f"run seed {seed!r} is not a non-negative integer")
        return Path(out_dir) / "runs" / task / variant_slug(name) / f"seed_{int(seed):04d}.json"

    def finished(self, out_dir: Path) -> set[tuple[str, str, int]]:
        """``(task, variant, seed)`` of every stored run."""
        return {(r["task"], r["variant"], int(r["seed"])) for r in self.load(out_dir)}

    def write(self, out_dir: Path, result: Mapping[str, Any]) -> bool:
        """Store one run unless it is already there; True if written."""
        result = dict(result)
        path = self.path(out_dir, result["task"], result["variant"], result["seed"])
        if path.exists():
            return False
        w_rec = result.pop("w_rec", None)
        if w_rec is not None:
            buf = _npz_bytes(w_rec=np.asarray(w_rec, np.float32))
            write_bytes(path.with_suffix(".npz"), buf, mkdir=True)
            result["w_rec_file"] = path.with_suffix(".npz").name
        text = json.dumps(_sanitize(result), indent=1, default=json_default, allow_nan=False)
        write_bytes(path, text.encode(), mkdir=True)
        return True

    def load(self, out_dir: Path) -> list[dict[str, Any]]:
        runs = []
        for p in sorted(Path(out_dir).glob("runs/*/*/seed_*.json")):
            try:
                runs.append(json.loads(p.read_text()))
            except (OSError, json.JSONDecodeError) as exc:  # never produced by write(); say so
                raise RuntimeError(f"run file {p} is unreadable ({exc}); delete it to rerun that run") from exc
        return runs

    @staticmethod
    def load_w_rec(out_dir: Path, run: Mapping[str, Any]) -> np.ndarray | None:
        path = RunStore.path(out_dir, run["task"], run["variant"], run["seed"]).with_suffix(".npz")
        if not path.exists():
            return None
        with np.load(path) as z:
            return z["w_rec"]


def _npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


RUN_STORE = RunStore()


def claim_out_dir(out_dir: Path, config: AblationConfig) -> None:
    """Write ``config.json`` once; refuse a folder that holds another configuration's runs.

    A folder whose ``config.json`` names another configuration but that holds no run is taken over.

    Raises:
        ValueError: the folder holds runs of another configuration (the message lists the differences).
    """
    out_dir = Path(out_dir)
    path = out_dir / "config.json"
    if path.exists():
        old = json.loads(path.read_text())
        if old.get("config_hash") == config.config_hash():
            return
        if RUN_STORE.load(out_dir):
            mine = config.identity()
            theirs = old.get("identity", {})
            diff = {k: (theirs.get(k), mine[k]) for k in mine if theirs.get(k) != mine[k]}
            raise ValueError(
                f"{out_dir} holds runs of another configuration (differences, stored -> requested: "
                f"{diff}); pick another --out, or delete the folder to start over")
        # claimed by a configuration that stored no run: the new configuration takes the folder over
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    payload = {**config.to_json(), "identity": config.identity(), "created": created}
    write_bytes(path, json.dumps(payload, indent=1, default=json_default).encode(), mkdir=True)


def check_stored_runs(out_dir: Path, config: AblationConfig, runs: Iterable[Mapping[str, Any]]) -> None:
    """Refuse stored runs made under another configuration (defence in depth for config.json)."""
    want = config.config_hash()
    bad = [r for r in runs if r.get("config_hash") != want]
    if bad:
        r = bad[0]
        raise ValueError(f"{out_dir}: {len(bad)} stored run(s) have config_hash {r.get('config_hash')} != "
                         f"{want} (e.g. {r['task']}/{r['variant']}/seed {r['seed']}); use another --out")


def write_once(path: Path, payload: Mapping[str, Any] | str) -> bool:
    """Write ``payload`` (JSON) to ``path`` atomically unless it exists; True if written.

    The temporary file sits in the same folder, so ``os.replace`` is an atomic rename: a
    reader (or a resumed sweep) sees either no file or the whole file, never a partial one.

    Example::

        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "run.json"
        >>> write_once(p, {"seed": 0}), write_once(p, {"seed": 1}), json.loads(p.read_text())
        (True, False, {'seed': 0})
    """
    path = Path(path)
    if path.exists():
        return False
    text = payload if isinstance(payload, str) else json.dumps(payload, indent=1, default=json_default)
    write_bytes(path, text.encode(), mkdir=True)
    return True


def load_config(out_dir: str | os.PathLike) -> dict[str, Any]:
    path = Path(out_dir) / "config.json"
    if not path.exists():
        raise FileNotFoundError(f"{out_dir} is not an ablation folder: no config.json (run "
                                "'python -m connectome_priors ablation --out ...' first)")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable ({exc})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(config).__name__}")
    return config


def field_dir(out_dir: str | os.PathLike, field: str, sign: str) -> Path:
    """The per-field run store of one sign arm inside a sweep folder: ``<out>/<sign>/<field>``."""
    return Path(out_dir) / sign / field


def load_sweep_runs(out_dir: Path, store=None) -> list[dict[str, Any]]:
    """Every stored run of a sweep folder (``<out>/<sign>/<field>/``, one run store each), with ``field`` and ``sign``
    filled in from the folder names.

    Args:
        out_dir: the sweep's ``--out`` folder.
        store: the run store (default :data:`RUN_STORE`).

    Returns:
        The runs, by sign and field folder.
    """
    store = store or RUN_STORE
    runs = []
    for sign_dir in sorted(p for p in Path(out_dir).iterdir() if p.is_dir() and p.name in SIGNS):
        for fdir in sorted(p for p in sign_dir.iterdir() if p.is_dir()):
            for r in store.load(fdir):
                runs.append({**r, "field": fdir.name, "sign": sign_dir.name})
    return runs
