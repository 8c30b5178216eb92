"""Training: BPTT + Adam for several seeds in one compiled program -- the one training loop, for the
built-in network and for any brainstate / brainpy module factory alike.

``models.train(RNNSpec(...), task)`` trains :class:`~connectome_priors.models.CorticalRNN` through
its factory (``CorticalRNN.factory(spec)``) with ``loop="sequence"`` (its ``forward_sequence``, the
hand-written-gradient recurrence); ``models.train(factory, task)`` trains your module the same way.

Contract of a module factory (``models.train(factory, task, seeds=[...], ...)``):

* ``factory(seed, **kw) -> module`` builds one network. It is called once per seed, after
  ``brainstate.random.seed(seed)`` (brainpy 2.8 initializers draw from it too), with those of
  these keywords its signature accepts (all of them if it takes ``**kwargs``): ``n_inputs`` (C,
  from the task), ``n_outputs`` (K, classes of the task), ``w_rec_init`` (when given: the seed's
  initializer ``w_rec_init.with_seed(seed)`` if it has ``with_seed``, as ``MICrONSInit`` does; the
  seed's slice of an (S, N, N) array; else ``w_rec_init`` itself), and the entries of
  ``factory_kwargs`` (e.g. ``n_hidden``). ``"package.module:factory"`` strings are resolved with
  :func:`models.resolve_model`.
* ``module`` is a ``brainstate.nn.Module`` (parameters ``brainstate.ParamState``) or a brainpy
  2.8 ``DynamicalSystem`` built with ``mode=brainpy.math.training_mode`` (parameters
  ``TrainVar``); other ``brainstate.LongTermState`` objects are per-seed constants (buffers: E/I
  signs, masks; saved with the parameters, not trained); every other state is recurrent state.
  Non-state attributes are taken from the first seed's module. Inputs are (B, T, C); the trainer
  trains on the **logits (B, K) of the last step** (the tasks' label is read out at step T-1):
  ``loop="sequence"`` calls ``module.forward_sequence(x)`` once per batch; ``loop="step"`` resets
  the hidden states for the batch (``brainstate.nn.init_all_states(module, B)`` /
  ``module.reset(B)``, or your ``reset(module, B)``) and calls ``module(x[:, t])`` for every t;
  ``loop="auto"`` (default) is ``"sequence"`` when the module has ``forward_sequence``.
* ``W_rec`` for the regularizers (and the result's ``w_rec``): ``w_rec_selector`` -- a parameter
  name (``"rnn.Wh"``), an attribute path of the module (``"W_rec"``) or a callable
  ``module -> (N, N) array`` computed from parameters (e.g. ``|V| * sign`` for Dale) -- or, when
  ``None``: the module's ``W_rec`` attribute if it has one, else the one parameter whose last
  name component is one of ``W_REC_NAMES`` (``W_rec``, ``w_rec``, ``Wh``, ``W_hh``, ...).
  ``w_rec_init`` is passed to the factory when it accepts it, else drawn per seed with
  :func:`models.draw_w_rec` and written into the selected parameter (which must be a name).
* Constraints: ``module.project_params(params: dict) -> dict``, if present, is applied after every
  optimizer step. Input noise: ``input_noise`` (default: the module's ``input_noise`` attribute,
  else ``DEFAULT_INPUT_NOISE``) times standard normal noise on the training inputs; evaluation never
  adds noise. Randomness inside the module is not supported.
* Compiled programs are cached (the last 32) for a factory whose class sets
  ``programs_cacheable = True`` -- a promise that the factory (its hash and equality) and the
  keywords determine every module it builds up to parameter and buffer values, as
  ``CorticalRNN.factory`` does -- so repeated calls with equal shapes (the ablation's variants x
  tasks) trace and compile once. Regularizer arrays bound in a ``functools.partial`` (``D``,
  ``C_emp``) are program arguments, not constants. Other factories are traced and compiled per call.

Protocol: :class:`connectome_priors.Protocol` (default ``PAPER``; the keyword overrides ``epochs``,
``batch_size``, ``n_train``, ``n_val``, ``n_test``, ``lr`` replace its fields). Adam with the
protocol's ``lr`` and ``eps=1e-7`` (Keras'; optax adds it to the bias-corrected sqrt(v), Keras
before the correction, which matters only in the first steps). Loss = softmax cross-entropy at
the last step + the sum of the regularizers on ``W_rec``. One program trains all seeds:
``jit(vmap(train_one_seed))`` with ``lax.scan`` over epochs and, inside, over the steps of an epoch.

Data: for run seed ``s`` the training set is ``make_dataset(task, n_train, seed=s)`` (unlike the
paper, which shared one dataset across runs, seeds vary data as well as initialization);
validation and test sets use ``derived_seed(s, "val")`` / ``derived_seed(s, "test")``, so every
variant trained with seed ``s`` sees the same trials. Batches are taken in a fixed order each epoch
(``shuffle=False``, as Keras with an unshuffled ``tf.data`` dataset); a remainder smaller than a
batch is dropped.

Metrics, arrays (seed, epoch): ``train_acc``/``train_loss``/``train_penalty`` are running means over
the epoch's batches (noise on, weights changing: Keras' history, the paper's "Accuracy"; Keras'
``loss`` is ``train_loss + train_penalty``); ``val_*``/``test_*`` are of the weights at the end of the
epoch, no noise (the test set after the last epoch only unless ``test_every_epoch``; earlier entries
NaN); ``penalty`` is the regularizers' value at the end of the epoch. Guard rails (``_step``): a
seed whose loss or weights become non-finite is frozen, its ``status`` says where and why it
stopped and its metrics from that epoch on are NaN; the other seeds continue.

Example::

    >>> import numpy as np
    >>> def toy(n, seed):                      # the sign of the mean input decides the class
    ...     rng = np.random.default_rng(seed)
    ...     y = rng.integers(0, 2, n)
    ...     x = (2 * y[:, None, None] - 1) * 0.5 + rng.normal(0, 1, (n, 5, 1))
    ...     return x.astype("float32"), y
    >>> res = train(RNNSpec(n_hidden=8), toy, seeds=[0, 1], epochs=2, n_train=256,
    ...             n_val=64, n_test=64, batch_size=32)
    >>> res.metrics["val_acc"].shape, res.status, res.config["protocol"]["epochs"]
    ((2, 2), ['ok', 'ok'], 2)
"""

from __future__ import annotations

import collections
import dataclasses
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from connectome_priors._protocol import PAPER, Protocol

from ._common import (
    DEFAULT_CURVE_EVERY,
    METRIC_NAMES,
    block_means,
    curve_steps,
    derived_seed,
    describe,
    rebuild_regularizer,
    split_regularizer,
    stack_splits,
    status_lines,
    total_penalty,
)
from ._module import CorticalRNN
from ._result import TrainResult
from ._rnn import RNNSpec, draw_w_rec
from ._states import ParamLayout, PureModule, build_module, discover, factory_accepts, factory_ref, resolve_model
from ._step import LOOPS, guarded_step, initial_carry, input_noise_of, logits_fn, make_loss, resolve_loop, select_w_rec


@dataclasses.dataclass(frozen=True)
class _Settings:
    """Everything besides the module that shapes the compiled program (hashable: part of the cache key)."""

    loop: str
    input_noise: float | None
    w_rec_selector: Any
    reset: Any
    reg_templates: tuple
    optimizer: Any  # ("keras-adam", lr) or the user's optax transformation
    epochs: int
    n_steps: int
    batch_size: int
    shuffle: bool
    test_every_epoch: bool
    shape: tuple[int, int, int, int]  # T, C, n_val, n_test
    curve_every: int


@dataclasses.dataclass(frozen=True)
class _Program:
    run: Callable  # jit(vmap(one_seed))
    w_rec_name: str
    loop: str
    input_noise: float


class ProgramCache:
    """A small LRU of compiled programs with hit / miss counters (``PROGRAMS``)."""

    def __init__(self, maxsize: int = 32) -> None:
        self.maxsize, self.hits, self.misses = maxsize, 0, 0
        self._programs: collections.OrderedDict[Hashable, _Program] = collections.OrderedDict()

    def get(self, key: Hashable | None, build: Callable[[], _Program]) -> _Program:
        """The cached program of ``key``, else ``build()`` (cached unless ``key`` is None)."""
        if key is None:
            return build()
        if key in self._programs:
            self.hits += 1
            self._programs.move_to_end(key)
            return self._programs[key]
        self.misses += 1
        program = self._programs[key] = build()
        if len(self._programs) > self.maxsize:
            self._programs.popitem(last=False)
        return program


PROGRAMS = ProgramCache()


def _compile(template: Any, s: _Settings) -> _Program:
    """Trace ``template`` (one seed's module) and build the all-seeds program: the one epoch loop."""
    optimizer = optax.adam(s.optimizer[1], eps=1e-7) if isinstance(s.optimizer, tuple) else s.optimizer
    pm = PureModule(template, s.reset)
    w_name, w_fn = select_w_rec(pm, s.w_rec_selector)
    loop, noise = resolve_loop(template, s.loop), input_noise_of(template, s.input_noise)
    t_len, c, n_val, n_test = s.shape
    step = guarded_step(make_loss(pm, w_fn, loop, s.batch_size, t_len, c, noise), optimizer,
                        getattr(template, "project_params", None) or (lambda p: p))
    lg_val, lg_test = logits_fn(pm, loop, n_val, t_len, c), logits_fn(pm, loop, n_test, t_len, c)
    n_used = s.n_steps * s.batch_size

    def evaluate(logits_of, p, x, y):  # p: parameters and buffers
        logits = logits_of(p, x)
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return ce, (jnp.argmax(logits, -1) == y).mean(dtype=jnp.float32)

    def one_seed(params, buf, seed_key, xtr, ytr, xva, yva, xte, yte, reg_data):
        regs = tuple(rebuild_regularizer(t, d) for t, d in zip(s.reg_templates, reg_data))
        noise_key, shuffle_key = jax.random.fold_in(seed_key, 2), jax.random.fold_in(seed_key, 3)

        def epoch(carry, e):
            if s.shuffle:
                idx = jax.random.permutation(jax.random.fold_in(shuffle_key, e), xtr.shape[0])[:n_used]
                xs, ys = xtr[idx], ytr[idx]
            else:
                xs, ys = xtr[:n_used], ytr[:n_used]
            xs = xs.reshape((s.n_steps, s.batch_size) + xtr.shape[1:])
            ys = ys.reshape(s.n_steps, s.batch_size)
            keys = jax.vmap(lambda i: jax.random.fold_in(noise_key, i))(e * s.n_steps + jnp.arange(s.n_steps))
            carry, (ce, pen, acc) = jax.lax.scan(lambda cr, b: step(cr, b, (regs, buf)), carry, (xs, ys, keys))
            p = {**carry[0], **buf}
            val_ce, val_acc = evaluate(lg_val, p, xva, yva)
            if s.test_every_epoch:
                te_ce, te_acc = evaluate(lg_test, p, xte, yte)
            else:  # the test set costs as much as the validation set: only after the last epoch
                nan = jnp.full((), jnp.nan, jnp.float32)
                te_ce, te_acc = jax.lax.cond(e == s.epochs - 1, lambda q: evaluate(lg_test, q, xte, yte),
                                             lambda q: (nan, nan), p)
            row = {"train_acc": acc.mean(), "train_loss": ce.mean(), "train_penalty": pen.mean(),
                   "val_acc": val_acc, "val_loss": val_ce, "test_acc": te_acc, "test_loss": te_ce,
                   "penalty": total_penalty(regs, w_fn(p)),
                   "curve_acc": block_means(acc, s.curve_every), "curve_loss": block_means(ce, s.curve_every)}
            return carry, row

        carry, rows = jax.lax.scan(epoch, initial_carry(params, optimizer), jnp.arange(s.epochs))
        params, _, alive, failed_step, failed_reason, _ = carry
        return params, rows, alive, failed_step, failed_reason, w_fn({**params, **buf})

    # regularizer data is shared by all seeds (not mapped)
    run = jax.jit(jax.vmap(one_seed, in_axes=(0, 0, 0, 0, 0, 0, 0, 0, 0, None)))
    return _Program(run, w_name, loop, noise)


def _cache_key(factory: Any, kwargs: Mapping[str, Any], settings: _Settings) -> Hashable | None:
    if not getattr(factory, "programs_cacheable", False):
        return None
    key = (factory, tuple(sorted(kwargs.items())), settings)
    try:
        hash(key)
    except TypeError:  # an unhashable keyword, regularizer or optimizer: compile without the cache
        return None
    return key


def _factory_of(model: Any) -> tuple[Callable, str | None]:
    """``(factory, import path or None)`` of an RNNSpec, a factory or ``"package.module:factory"``."""
    if isinstance(model, RNNSpec):
        return CorticalRNN.factory(model), None
    if isinstance(model, str):
        return resolve_model(model), model
    if callable(model):
        return model, factory_ref(model)
    raise TypeError(f"model must be an RNNSpec, a module factory or 'package.module:factory', got {model!r}")


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    if isinstance(seeds, (int, np.integer)) or not isinstance(seeds, Sequence | np.ndarray):
        raise TypeError(f"seeds must be a sequence of integers such as [0, 1, 2] (range(n) for n seeds), "
                        f"got {seeds!r}")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0]
    if bad:
        raise ValueError(f"seeds must be non-negative integers, got {bad} in {list(seeds)}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    return seeds


def _check_curve_every(curve_every: Any) -> int:
    if isinstance(curve_every, bool) or not isinstance(curve_every, (int, np.integer)) or curve_every < 1:
        raise ValueError(f"curve_every must be a positive integer (optimizer steps per curve point), "
                         f"got {curve_every!r}")
    return int(curve_every)


def _describe_init(w_rec_init: Any) -> str | None:
    if w_rec_init is None:
        return None
    if isinstance(w_rec_init, (np.ndarray, jax.Array)):
        return f"array{tuple(np.shape(w_rec_init))}"
    return describe(w_rec_init)


def train(
    model: RNNSpec | Callable | str,
    task: Any,
    *,
    protocol: Protocol | None = None,
    seeds: Sequence[int] = (0,),
    epochs: int | None = None,
    batch_size: int | None = None,
    n_train: int | None = None,
    n_val: int | None = None,
    n_test: int | None = None,
    lr: float | None = None,
    regularizers: Sequence[Callable] = (),
    w_rec_init: Any = None,
    shuffle: bool = False,
    test_every_epoch: bool = False,
    optimizer: optax.GradientTransformation | None = None,
    loop: str = "auto",
    input_noise: float | None = None,
    w_rec_selector: str | Callable | None = None,
    reset: Callable | None = None,
    factory_kwargs: Mapping[str, Any] | None = None,
    curve_every: int = DEFAULT_CURVE_EVERY,
) -> TrainResult:
    """Train one network per seed on ``task``, all seeds in one compiled program (see the module docstring).

    Args:
        model: an :class:`RNNSpec` (the built-in :class:`CorticalRNN`; ``n_inputs`` / ``n_outputs``
            left ``None`` come from the task), a module factory ``seed -> module``, or its import
            path ``"package.module:factory"``.
        task: ``envs`` task id (1/2/3, "Task1", "cortex/Task3-v0", ...) or a callable
            ``(n_trials, seed) -> (inputs, labels)``.
        protocol: the training protocol (default :data:`connectome_priors._protocol.PAPER`).
        seeds: run seeds (distinct): initialization, training data and input noise of each network.
        epochs, batch_size, n_train, n_val, n_test, lr: override the protocol's field (``None``: the protocol's).
        regularizers: callables ``penalty(W_rec) -> scalar`` added to the loss, e.g.
            ``functools.partial(connectome_priors.communicability_cost, D=D, lam=0.3)``.
        w_rec_init: initializer of ``W_rec`` (see :func:`models.draw_w_rec`), or an array (S, N, N) / (N, N).
        shuffle: reshuffle the training trials every epoch (default: fixed order, as the paper).
        test_every_epoch: evaluate the test set after every epoch (default: after the last one).
        optimizer: an optax transformation instead of ``adam(lr, eps=1e-7)`` (then pass no ``lr``).
        loop: ``"auto"``, ``"sequence"`` or ``"step"`` (see the module docstring).
        input_noise: std of the training input noise (default: the module's ``input_noise``).
        w_rec_selector: which matrix the regularizers see (a parameter name, an attribute path or a callable).
        reset: ``reset(module, batch_size)`` for the step loop (default: the brainstate / brainpy reset).
        factory_kwargs: extra keywords for the factory (e.g. ``{"n_hidden": 42}``).
        curve_every: record the learning curve (``result.curves``) every this many optimizer steps:
            the mean training accuracy and loss of each block of ``curve_every`` batches.

    Returns:
        A :class:`TrainResult`; ``result.spec`` is set for :class:`CorticalRNN` networks, and
        ``result.config`` records the protocol, the data seeds and every option.

    Raises:
        ValueError: bad seeds, a ``curve_every`` that is not a positive integer, a protocol field out of range
            (via :class:`Protocol`), ``lr`` with
            ``optimizer``, an unknown ``loop``, a spec that does not fit the task, modules whose
            parameters differ between seeds, or an unresolvable ``W_rec``.
        TypeError: ``model`` is none of the above.
    """
    proto = (PAPER if protocol is None else protocol).replace(
        epochs=epochs, batch_size=batch_size, n_train=n_train, n_val=n_val, n_test=n_test, lr=lr)
    seeds = _check_seeds(seeds)
    if optimizer is not None and lr is not None:
        raise ValueError("pass either lr (for the default Adam) or optimizer, not both")
    if loop not in LOOPS:
        raise ValueError(f"loop={loop!r} is not one of {LOOPS}")
    factory, ref = _factory_of(model)
    xtr, ytr, xva, yva, xte, yte = stack_splits(task, seeds, proto.n_train, proto.n_val, proto.n_test)
    t_len, c = xtr.shape[2], xtr.shape[3]
    n_classes = int(max(ytr.max(), yva.max(), yte.max())) + 1

    # one module per seed; the first is the template whose calls are traced
    kwargs = {**(factory_kwargs or {}), "n_inputs": c, "n_outputs": n_classes}
    accepted = factory_accepts(factory)
    init_by_factory = w_rec_init is not None and (accepted is None or "w_rec_init" in accepted)
    if isinstance(w_rec_init, (np.ndarray, jax.Array)) and np.ndim(w_rec_init) == 3:
        if np.shape(w_rec_init)[0] != len(seeds):
            raise ValueError(f"w_rec_init has shape {np.shape(w_rec_init)}: one (N, N) matrix per seed is needed, "
                             f"{len(seeds)} seeds")
        per_seed = [np.asarray(w_rec_init[i]) for i in range(len(seeds))]
    else:
        per_seed = [w_rec_init.with_seed(s) if hasattr(w_rec_init, "with_seed") else w_rec_init for s in seeds]
    modules = [build_module(factory, s, {**kwargs, "w_rec_init": init} if init_by_factory else kwargs)
               for s, init in zip(seeds, per_seed)]
    states = [discover(m) for m in modules]
    flats = [ParamLayout({**params, **buffers}).read() for params, buffers, _ in states]
    buffer_names = ParamLayout(states[0][1]).names
    for s, f in zip(seeds, flats):
        if {k: np.shape(v) for k, v in f.items()} != {k: np.shape(v) for k, v in flats[0].items()}:
            raise ValueError(f"the factory's module for seed {s} has other parameters than for seed {seeds[0]}")

    split = [split_regularizer(r) for r in regularizers]
    settings = _Settings(
        loop=loop, input_noise=input_noise, w_rec_selector=w_rec_selector, reset=reset,
        reg_templates=tuple(t for t, _ in split),
        optimizer=("keras-adam", proto.lr) if optimizer is None else optimizer,
        epochs=proto.epochs, n_steps=proto.steps_per_epoch, batch_size=proto.batch_size, shuffle=bool(shuffle),
        test_every_epoch=bool(test_every_epoch), shape=(t_len, c, proto.n_val, proto.n_test),
        curve_every=_check_curve_every(curve_every))
    program = PROGRAMS.get(_cache_key(factory, kwargs, settings), lambda: _compile(modules[0], settings))

    if w_rec_init is not None and not init_by_factory:
        if program.w_rec_name not in flats[0]:
            raise ValueError(f"w_rec_init: the factory takes no w_rec_init and W_rec ({program.w_rec_name}) is not "
                             "a parameter to write it into; accept w_rec_init in the factory or select W_rec by name")
        n = int(np.shape(flats[0][program.w_rec_name])[0])
        for s, f, init in zip(seeds, flats, per_seed):
            f[program.w_rec_name] = jnp.asarray(draw_w_rec(init, n, s))
    stacked = {k: jnp.stack([jnp.asarray(f[k]) for f in flats]) for k in flats[0]}
    buffers0 = {k: stacked.pop(k) for k in buffer_names}  # per-seed constants, not trained
    params0 = {k: v.astype(jnp.float32) for k, v in stacked.items()}
    keys = jnp.stack([jax.random.PRNGKey(s) for s in seeds])

    t0 = time.perf_counter()
    params, rows, alive, failed_step, failed_reason, w_rec = program.run(
        params0, buffers0, keys, xtr, ytr, xva, yva, xte, yte, tuple(d for _, d in split))
    params = jax.tree_util.tree_map(np.asarray, {**params, **buffers0})  # buffers saved with the parameters
    w_rec = np.asarray(w_rec)
    wall = time.perf_counter() - t0

    metrics = {k: np.array(rows[k], dtype=np.float64) for k in METRIC_NAMES}
    failed_step = np.asarray(failed_step)
    steps = curve_steps(proto.epochs, proto.steps_per_epoch, settings.curve_every)
    stopped = (failed_step[:, None] >= 0) & (steps[None, :] > failed_step[:, None])  # blocks after a seed froze
    curves = {"step": steps, **{name: np.where(stopped, np.nan, np.asarray(rows[f"curve_{key}"], np.float64)
                                               .reshape(len(seeds), -1))
                                for name, key in (("train_acc", "acc"), ("train_loss", "loss"))}}
    status = status_lines(metrics, np.asarray(alive), failed_step, np.asarray(failed_reason), proto.steps_per_epoch)
    spec = modules[0].spec if isinstance(modules[0], CorticalRNN) else None
    config = {
        "task": task if isinstance(task, (int, str)) else describe(task),
        "model": ref or describe(factory),
        "factory_kwargs": {k: v for k, v in kwargs.items() if isinstance(v, (int, float, str, bool, type(None)))},
        "loop": program.loop, "w_rec_name": program.w_rec_name, "input_noise": program.input_noise,
        "param_names": sorted(params0), "buffer_names": sorted(buffers0),
        "protocol": proto.to_dict(), "seeds": seeds, "epochs": proto.epochs, "batch_size": proto.batch_size,
        "n_train": proto.n_train, "n_val": proto.n_val, "n_test": proto.n_test,
        "steps_per_epoch": proto.steps_per_epoch, "lr": proto.lr, "shuffle": bool(shuffle),
        "test_every_epoch": bool(test_every_epoch), "curve_every": settings.curve_every,
        "optimizer": f"adam(lr={proto.lr}, eps=1e-7)" if optimizer is None else describe(optimizer),
        "regularizers": [describe(r) for r in regularizers],
        "w_rec_init": _describe_init(w_rec_init),
        "data_seeds": {"train": seeds, "val": [derived_seed(s, "val") for s in seeds],
                       "test": [derived_seed(s, "test") for s in seeds]},
    }
    return TrainResult(spec=spec, seeds=np.array(seeds), metrics=metrics, params=params, status=status,
                       failed_step=failed_step, config=config, wall_time_s=wall, w_rec_effective=w_rec,
                       curves=curves)
