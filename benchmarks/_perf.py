"""``python -m connectome_priors perf``: how fast one training step is, against this machine's matmul rate.

Times one optimizer step of the paper's network (N=312, T=50, B=128 by default) with and without
the communicability penalty, for one seed and for several vmapped seeds, and a full training at the
paper's protocol (``connectome_priors.Protocol()``) with the communicability penalty. Prints steps/s,
the achieved GFLOP/s of the RNN's matmuls and their ratio to the float32 matmul rate measured in the
same run.

The step is the one guarded step of ``models.train`` (``models.train_step``) for
``models.CorticalRNN``: the main table runs ``loop="sequence"`` (its ``forward_sequence``, the
hand-written-gradient recurrence; what ``models.train(RNNSpec(...))`` runs); ``--module-loops step``
(default) also times ``loop="step"`` (its per-step ``update`` with plain autodiff through the time
scan -- what any user module without ``forward_sequence`` gets) and reports it as a ratio to the
sequence loop's step time of the same run (``--module-loops none`` skips it).

Flop count of one step (matmuls only, forward + backward; the penalty's expm is not counted)::

    forward : 2BTCN (input drive) + 2TBN^2 (recurrence) + 2BNK (readout)
    backward: 2TBN^2 (delta W^T) + 2TBN^2 (dW = H^T Delta) + 2BTCN (dW_in) + 4BNK (readout)
    total   = 6TBN^2 + 4BTCN + 6BNK

The reference rate is a jitted chain of ``T`` products (B, N) x (N, N) -- the shape the step is
made of -- and, for context, one large square product (peak rate).
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import time
from collections.abc import Callable

import numpy as np


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n-hidden", type=int, default=312, help="recurrent units N (default 312, field 6_6_2)")
    parser.add_argument("--steps", type=int, default=50, help="time steps T (default 50)")
    parser.add_argument("--batch", type=int, default=128, help="batch size B (default 128)")
    parser.add_argument("--inputs", type=int, default=8, help="input channels C (default 8)")
    parser.add_argument("--classes", type=int, default=4, help="classes K (default 4)")
    parser.add_argument("--seeds", type=int, default=4, help="seeds in the vmapped measurement (default 4)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions; the median is reported")
    parser.add_argument("--inner", type=int, default=5, help="steps per timed repetition (one lax.scan)")
    parser.add_argument("--task", default="1", help="task of the full training run (default 1)")
    parser.add_argument("--field", default="6_6_2", help="field for the distance matrix (default 6_6_2)")
    parser.add_argument("--skip-training", action="store_true", help="skip the full-protocol training run")
    parser.add_argument("--module-loops", default="step",
                        help="loops to time against the sequence loop of the main table: 'step' (default) or 'none'")


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    import jax

    jax.block_until_ready(fn())  # compile + warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _cpu_time(fn: Callable[[], object]) -> float:
    """Process CPU seconds of one call (on a shared machine, CPU/ncores ~ unloaded wall time)."""
    import jax

    c0 = time.process_time()
    jax.block_until_ready(fn())
    return time.process_time() - c0


def matmul_rates(b: int, n: int, t: int, repeats: int) -> dict[str, float]:
    """float32 GFLOP/s of a jitted chain of T (B,N)x(N,N) products, and of one big square product."""
    import jax
    import jax.numpy as jnp

    key = jax.random.PRNGKey(0)
    h = jax.random.normal(key, (b, n), jnp.float32)
    w = jax.random.normal(jax.random.fold_in(key, 1), (n, n), jnp.float32) / np.sqrt(n)

    @jax.jit
    def chain(h, w):
        return jax.lax.fori_loop(0, t, lambda i, x: jnp.tanh(x @ w), h)

    sec = _median_time(lambda: chain(h, w), repeats)
    m = 2048
    a = jax.random.normal(key, (m, m), jnp.float32)
    big = jax.jit(lambda a: a @ a)
    sec_big = _median_time(lambda: big(a), repeats)
    return {"chain": 2.0 * t * b * n * n / sec / 1e9, "square2048": 2.0 * m**3 / sec_big / 1e9}


def step_flops(b: int, t: int, c: int, n: int, k: int) -> float:
    return 6.0 * t * b * n * n + 4.0 * b * t * c * n + 6.0 * b * n * k


def _distance_matrix(field: str, n: int) -> tuple[np.ndarray, str]:
    """The field's soma distances (mean 1, as in the ablation) when it has ``n`` neurons, else a
    surrogate field of that size (the perf numbers do not depend on the values)."""
    from connectome_priors.fields import load_field
    from connectome_priors.priors import distance_matrix, surrogate_field

    ds = load_field(field)
    source = f"field {field} soma distances (mean 1)"
    n_field = ds.sizes["neuron"]
    if n_field != n:
        ds = surrogate_field(n, seed=0)
        source = f"surrogate field of {n} neurons (field {field} has {n_field})"
    return np.asarray(distance_matrix(ds).values, np.float32), source


def _communicability_penalty(d: np.ndarray) -> tuple[Callable, str]:
    from connectome_priors.regularizers import communicability_cost

    return functools.partial(communicability_cost, D=d, lam=0.3), "connectome_priors.communicability_cost(lam=0.3)"


def _time_steps(spec, penalties, n_seeds, b, t, c, k, inner, repeats, loop="sequence") -> tuple[float, float]:
    """(wall, CPU) seconds per optimizer step (median wall), ``inner`` steps in one compiled lax.scan:
    ``models.train_step`` of ``CorticalRNN(spec)`` with ``loop``."""
    import jax
    import jax.numpy as jnp
    import optax

    from connectome_priors._protocol import PAPER
    from connectome_priors.models import CorticalRNN, init_params, initial_carry, train_step

    opt = optax.adam(PAPER.lr, eps=1e-7)
    step, _, _ = train_step(CorticalRNN(spec, seed=0), penalties, opt, batch_size=b, n_time=t, n_inputs=c, loop=loop)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(0, 1, (n_seeds, inner, b, t, c)).astype(np.float32))
    y = jnp.asarray(rng.integers(0, k, (n_seeds, inner, b)).astype(np.int32))
    params = [init_params(spec, s) for s in range(n_seeds)]
    params = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *params)

    def run(p, xs, ys, seed):
        keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(seed), i))(jnp.arange(inner))
        carry, _ = jax.lax.scan(step, initial_carry(p, opt), (xs, ys, keys))
        return carry[0]

    if n_seeds == 1:
        prog = jax.jit(run)
        p1 = jax.tree_util.tree_map(lambda a: a[0], params)
        call = lambda: prog(p1, x[0], y[0], 0)  # noqa: E731
    else:
        prog = jax.jit(jax.vmap(run))
        call = lambda: prog(params, x, y, jnp.arange(n_seeds))  # noqa: E731
    sec = _median_time(call, repeats)
    return sec / inner, _cpu_time(call) / inner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectome_priors perf", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(args)


def run(args: argparse.Namespace) -> int:
    import jax

    from connectome_priors.models import RNNSpec, train

    n, t, b, c, k = args.n_hidden, args.steps, args.batch, args.inputs, args.classes
    print(f"connectome-priors perf | jax {jax.__version__} | backend {jax.default_backend()} | "
          f"devices {jax.devices()} | cpus {os.cpu_count()} | {platform.machine()}")
    print(f"step shape: N={n} T={t} B={b} C={c} K={k}; median of {args.repeats} x {args.inner} steps")
    rates = matmul_rates(b, n, t, args.repeats)
    ref = rates["chain"]
    print(f"measured float32 matmul rate: {ref:8.1f} GFLOP/s  ((B,N)x(N,N) chain of {t}); "
          f"{rates['square2048']:8.1f} GFLOP/s (2048^3 square, peak)")

    d, d_desc = _distance_matrix(args.field, n)
    comm, comm_desc = _communicability_penalty(d)
    print(f"communicability penalty: {comm_desc}; D: {d_desc}")
    flops = step_flops(b, t, c, n, k)
    print(f"matmul flops per step: {flops / 1e9:.3f} GFLOP (penalty not counted)")
    print(f"{'case':<34}{'ms/step':>10}{'steps/s':>10}{'GFLOP/s':>10}{'ratio':>8}{'/peak':>8}{'CPU-ms/step':>13}")
    spec = RNNSpec(n_hidden=n, n_inputs=c, n_outputs=k)
    results, results_cpu = {}, {}
    for label, pens, seeds in (("plain, 1 seed", (), 1), ("communicability, 1 seed", (comm,), 1),
                               (f"plain, {args.seeds} seeds vmapped", (), args.seeds),
                               (f"communicability, {args.seeds} seeds vmapped", (comm,), args.seeds)):
        sec, cpu = _time_steps(spec, pens, seeds, b, t, c, k, args.inner, args.repeats)
        gflops = seeds * flops / sec / 1e9
        results[label] = sec
        results_cpu[label] = cpu
        print(f"{label:<34}{sec * 1e3:>10.2f}{seeds / sec:>10.2f}{gflops:>10.1f}"
              f"{gflops / ref:>8.2f}{gflops / rates['square2048']:>8.2f}{cpu * 1e3:>13.1f}")
    print("(steps/s counts seed-steps; ratio = achieved / chain matmul rate, /peak = achieved / square rate)")

    loops = [] if args.module_loops.strip().lower() == "none" else [
        lp.strip() for lp in args.module_loops.split(",") if lp.strip()]
    for lp in loops:
        if lp != "step":
            raise SystemExit(f"--module-loops: unknown loop {lp!r} ('step' or 'none'; the table above is 'sequence')")
    if loops:
        print("loop='step' (CorticalRNN's per-step update + autodiff, what a user module runs) against the "
              "sequence loop above (same shapes, same run):")
        print(f"{'case':<52}{'ms/step':>10}{'seq ms':>10}{'step/seq':>13}{'CPU-ms/step':>13}{'CPU ratio':>11}")
    for lp in loops:
        for label, pens, seeds in (("plain, 1 seed", (), 1), ("communicability, 1 seed", (comm,), 1),
                                   (f"communicability, {args.seeds} seeds vmapped", (comm,), args.seeds)):
            sec, cpu = _time_steps(spec, pens, seeds, b, t, c, k, args.inner, args.repeats, loop=lp)
            print(f"{'module/' + lp + ': ' + label:<52}{sec * 1e3:>10.2f}{results[label] * 1e3:>10.2f}"
                  f"{sec / results[label]:>13.2f}{cpu * 1e3:>13.1f}{cpu / results_cpu[label]:>11.2f}")
    if loops:
        print("(step/seq = step-loop time / sequence-loop time of the same case above, wall clock; CPU ratio = "
              "the same with process CPU time, steadier on a shared machine)")

    if not args.skip_training:
        from connectome_priors._protocol import PAPER

        task = int(args.task) if str(args.task).isdigit() else args.task
        task_desc = f"envs task {task!r}"
        t0, c0 = time.perf_counter(), time.process_time()
        res = train(RNNSpec(n_hidden=n), task, seeds=[0], protocol=PAPER, regularizers=[comm])
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{PAPER.epochs}-epoch training, {PAPER.total_steps} steps, communicability penalty, {task_desc}: "
              f"{total:.1f} s total "
              f"wall, {cpu:.1f} CPU-s (= {cpu / (os.cpu_count() or 1):.1f} s on {os.cpu_count()} idle cores); "
              f"(compile + run {res.wall_time_s:.1f} s; data generation {total - res.wall_time_s:.1f} s); "
              f"final train_acc {res.metrics['train_acc'][0, -1]:.3f}, val_acc {res.metrics['val_acc'][0, -1]:.3f}; "
              f"status {res.status[0]}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
