"""Record the trained ``W_rec`` of the reference training cases (``tests/data/training_reference.json``).

Provenance of the committed file: it was recorded at commit 4b972e1 with the training code of that
time, and ``tests/test_training_reference.py`` recomputes every case through today's public API and
compares (sha256 of the float32 bytes on the recording machine, a tolerance elsewhere). This script
regenerates a file of the same format -- the cases and protocol are read from an existing reference
file -- so a new recording can be made and diffed; it refuses to overwrite the committed file.

Each case: ``AblationConfig(**case["config"])`` -> ``FieldPriors`` -> ``build_prior(variant)``
(the ablation's initializer and regularizers of that variant), then
``models.train(RNNSpec(n_hidden=N, **case["spec"]), task, regularizers=..., w_rec_init=..., protocol=...)``
with the file's protocol (seeds, epochs, batch size, trial counts, learning rate).

Usage::

    python scripts/record_training_reference.py --out /tmp/training_reference.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "tests" / "data" / "training_reference.json"
VECTOR_FLAGS = ("sse", "ssse", "avx", "fma", "amx", "f16c")  # the cpuinfo flags that change XLA's CPU kernels


def fingerprint() -> dict[str, str]:
    """The machine and library versions a float32 training result depends on (bit for bit)."""
    import jax
    import jaxlib

    # A model name alone is too coarse: virtual machines report "AMD EPYC" for every generation, and XLA picks
    # its kernels by instruction set (a Zen 4 with AVX-512 rounds differently from a Zen 3 without it).
    info = {"model name": platform.processor() or "", "cpu family": "", "model": "", "flags": ""}
    try:
        first_cpu = Path("/proc/cpuinfo").read_text().split("\n\n")[0]
    except OSError:
        first_cpu = ""
    for line in first_cpu.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in info:
            info[key.strip()] = value.strip()
    isa = sorted(f for f in info["flags"].split() if f.startswith(VECTOR_FLAGS))
    return {"cpu": info["model name"], "cpu_family_model": f"{info['cpu family']}/{info['model']}",
            "isa": " ".join(isa), "machine": platform.machine(), "jax": jax.__version__,
            "jaxlib": jaxlib.__version__}


def sha256_of(w: np.ndarray) -> str:
    """sha256 of the C-ordered float32 bytes of ``w``."""
    return hashlib.sha256(np.ascontiguousarray(w, np.float32).tobytes()).hexdigest()


def train_case(case: dict[str, Any], protocol: dict[str, Any]) -> tuple[np.ndarray, Any]:
    """``(W_rec (S, N, N) float32, TrainResult)`` of one case, trained through the public API."""
    from connectome_priors import Protocol, models
    from connectome_priors.benchmarks._ablation import FieldPriors, build_prior
    from connectome_priors.benchmarks._schema import AblationConfig

    priors = FieldPriors(AblationConfig(**case["config"]))
    init, regs = build_prior(case["variant"], priors)
    proto = Protocol(**{k: v for k, v in protocol.items() if k != "seeds"})
    # as the ablation builds it: a compat nonneg network keeps Keras' start (RNNSpec.nonneg_rescale)
    spec = {"nonneg_rescale": not priors.config.reference_compat, **case["spec"]}
    res = models.train(models.RNNSpec(n_hidden=priors.n, **spec), case["task"], protocol=proto,
                       seeds=list(protocol["seeds"]), regularizers=regs, w_rec_init=init)
    return np.asarray(res.w_rec, np.float32), res


def record(reference: dict[str, Any]) -> dict[str, Any]:
    """A new reference dict: the cases and protocol of ``reference``, recomputed on this machine."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    out = {"recorded_at_commit": commit.stdout.strip() or "unknown", "protocol": reference["protocol"],
           "machine": fingerprint(), "cases": []}
    for case in reference["cases"]:
        w, res = train_case(case, reference["protocol"])
        out["cases"].append({
            **{k: case[k] for k in ("name", "config", "variant", "task", "spec")},
            "status": list(res.status), "w_rec_sha256": sha256_of(w), "w_rec": w.tolist(),
            "train_loss": np.asarray(res.metrics["train_loss"]).tolist(),
        })
        print(f"{case['name']}: {out['cases'][-1]['w_rec_sha256']} {res.status}", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="file to write (not the committed reference)")
    parser.add_argument("--cases", type=Path, default=COMMITTED, help="reference file whose cases are recorded")
    args = parser.parse_args(argv)
    if args.out.resolve() == COMMITTED.resolve():
        parser.error(f"refusing to overwrite the committed reference {COMMITTED}")
    from connectome_priors._atomic import write_text

    result = record(json.loads(args.cases.read_text()))
    write_text(args.out, json.dumps(result, separators=(",", ":")), mkdir=True)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
