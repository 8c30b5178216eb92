"""A user's brainstate / brainpy module as pure JAX functions of its parameters (for training).

brainstate 0.5.4 refuses a JAX tracer written into a ``State`` under a raw ``jax.jit`` / ``vmap``
/ ``grad`` (``TraceContextError``), so the trainer never runs the module under those transforms.
Instead each call it needs (one time step, a whole sequence, the recurrent-weight selector) is
traced once by ``brainstate.transform.StatefulFunction`` into a jaxpr over the module's states;
:class:`PureModule` evaluates those jaxprs with parameter values passed as arguments, so the
trainer composes them freely with ``jax.grad``, ``jax.vmap``, ``jax.lax.scan`` and ``jax.jit``.

Which states are parameters: ``brainstate.ParamState`` in a ``brainstate.nn.Module`` tree
(found by ``brainstate.graph.states``), ``brainpy.math.TrainVar`` in a brainpy 2.8
``DynamicalSystem`` (found by ``vars(method="relative")``; build brainpy models with
``mode=brainpy.math.training_mode``, else brainpy stores weights as constants, not variables).
brainpy 2.8's ``Variable`` *is* a ``brainstate.State``, so brainpy models need no adapter; a
brainpy object held as an attribute of a brainstate module is found too. Other
``brainstate.LongTermState`` objects are *buffers*: per-seed constants, not trained (an E/I sign
vector, a connectivity mask). Every other state (``HiddenState``, brainpy's ``Variable``) is the
recurrent state, threaded through the time loop and reset before each batch. Anything that is
not a state (a numpy array attribute, a Python number) is baked in from the first seed's module,
so keep per-seed differences in states. A parameter whose value is a dict (``brainstate.nn.Linear``'s
``{"weight", "bias"}``) gives one leaf per entry: ``out.weight.weight``, ``out.weight.bias``.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable
from typing import Any

import brainstate
import jax
import numpy as np

# last name components that mark a recurrent weight when no w_rec_selector is given
W_REC_NAMES = ("W_rec", "w_rec", "Wrec", "wrec", "Wh", "W_h", "W_hh", "w_hh", "Whh", "W_rr", "w_rr", "J", "W_recurrent")


def _is_brainpy(obj: Any) -> bool:
    # a brainpy object exists only once brainpy is imported: a brainstate-only model never imports it
    brainpy = sys.modules.get("brainpy")
    return brainpy is not None and isinstance(obj, brainpy.math.BrainPyObject)


def _key_name(k) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def discover(module) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(params, buffers, others)``: dicts attribute path -> ``State`` of a brainstate or brainpy
    module. params: ``ParamState`` / brainpy ``TrainVar``; buffers: other ``LongTermState``
    (per-seed constants: masks, E/I signs); others: the recurrent state (everything else)."""
    params, buffers, others = {}, {}, {}

    def add_brainpy(obj, prefix):
        train_var = sys.modules["brainpy"].math.TrainVar
        for name, var in obj.vars(method="relative").items():
            (params if isinstance(var, train_var) else others)[prefix + name] = var

    if _is_brainpy(module):
        add_brainpy(module, "")
    else:
        for path, st in brainstate.graph.states(module).items():
            name = ".".join(str(p) for p in path)
            if isinstance(st, brainstate.ParamState):
                params[name] = st
            elif isinstance(st, brainstate.LongTermState):
                buffers[name] = st
            else:
                others[name] = st
        for attr, val in vars(module).items():  # brainpy cells held by a brainstate module
            if _is_brainpy(val):
                add_brainpy(val, attr + ".")
    return params, buffers, others


class ParamLayout:
    """Parameter states <-> a flat dict ``leaf name -> array`` (what the optimizer sees)."""

    def __init__(self, params: dict[str, Any]):
        self.states, self.entries = [], []  # entries: (state, treedef, [leaf names])
        for name, st in params.items():
            leaves, treedef = jax.tree_util.tree_flatten_with_path(st.value)
            names = [name + "".join("." + _key_name(k) for k in path) for path, _ in leaves]
            self.entries.append((st, treedef, names))
            self.states.append(st)
        self.names = [n for _, _, ns in self.entries for n in ns]
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"parameter names are not unique: {self.names}")

    def read(self) -> dict[str, np.ndarray]:
        out = {}
        for st, _, names in self.entries:
            for n, leaf in zip(names, jax.tree_util.tree_leaves(st.value)):
                out[n] = leaf
        return out

    def value_of(self, st, flat: dict) -> Any:
        for s, treedef, names in self.entries:
            if s is st:
                return jax.tree_util.tree_unflatten(treedef, [flat[n] for n in names])
        raise KeyError(st)

    def write(self, flat: dict) -> None:
        """Assign concrete values (outside any trace) to the parameter states."""
        for st, treedef, names in self.entries:
            st.value = jax.tree_util.tree_unflatten(treedef, [jax.numpy.asarray(flat[n]) for n in names])


def reset_module(module, batch_size: int) -> None:
    """Hidden states to their initial value for ``batch_size`` trials."""
    if _is_brainpy(module):
        module.reset(batch_size)
        return
    brainstate.nn.init_all_states(module, batch_size)
    for val in vars(module).values():
        if _is_brainpy(val):
            val.reset(batch_size)


class PureModule:
    """Pure functions of the parameters and buffers (one flat dict) for one template module.

    ``step(bsz)`` -> ``(h0, f)`` with ``f(params, h, x_t) -> (h, out)`` (one call of the module on
    ``x_t`` (bsz, C)) and ``h0`` the hidden-state values after a reset for ``bsz`` trials;
    ``sequence(bsz, T)`` -> ``f(params, x) -> out`` for modules with ``forward_sequence``;
    ``selector(fn)`` -> ``g(params) -> W_rec`` for ``fn(module) -> W_rec``.
    """

    def __init__(self, module, reset: Callable | None = None):
        self.module = module
        self.reset = reset or reset_module
        params, buffers, _ = discover(module)
        if not params:
            raise ValueError(f"{type(module).__name__} has no trainable parameters: brainstate models need "
                             "brainstate.ParamState, brainpy models mode=brainpy.math.training_mode")
        self.layout = ParamLayout({**params, **buffers})
        self.buffer_names = ParamLayout(buffers).names
        self._cache = {}

    def _trace(self, fn, *example):
        sf = brainstate.transform.StatefulFunction(fn, return_only_write=False)
        sf.make_jaxpr(*example)
        states = tuple(sf.get_states(*example))
        jaxpr, treedef = sf.get_jaxpr(*example), sf.get_out_treedef(*example)
        ids = {id(s) for s in self.layout.states}
        is_param = [id(s) in ids for s in states]
        consts = [None if p else jax.tree_util.tree_map(np.asarray, s.value) for s, p in zip(states, is_param)]

        def call(flat, others, *args):
            it = iter(others)
            vals = tuple(self.layout.value_of(s, flat) if p else next(it) for s, p in zip(states, is_param))
            outs = jax.core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *jax.tree_util.tree_leaves((args, {}, vals)))
            out, new_vals = treedef.unflatten(outs)
            return out, tuple(v for v, p in zip(new_vals, is_param) if not p)

        return call, tuple(c for c, p in zip(consts, is_param) if not p)

    def step(self, bsz: int, n_inputs: int):
        key = ("step", bsz, n_inputs)
        if key not in self._cache:
            self.reset(self.module, bsz)
            call, h0 = self._trace(lambda x: self.module(x), jax.numpy.zeros((bsz, n_inputs), jax.numpy.float32))

            def f(flat, h, x_t):
                out, h = call(flat, h, x_t)
                return h, out

            self._cache[key] = (h0, f)
        return self._cache[key]

    def sequence(self, bsz: int, t: int, n_inputs: int):
        key = ("seq", bsz, t, n_inputs)
        if key not in self._cache:
            self.reset(self.module, bsz)
            call, h0 = self._trace(lambda x: self.module.forward_sequence(x),
                                   jax.numpy.zeros((bsz, t, n_inputs), jax.numpy.float32))
            self._cache[key] = lambda flat, x: call(flat, h0, x)[0]
        return self._cache[key]

    def selector(self, fn: Callable):
        call, others = self._trace(lambda: fn(self.module))
        if others:
            raise ValueError("the w_rec selector reads non-parameter states; it must compute W_rec from parameters")
        return lambda flat: call(flat, ())[0]


def resolve_model(ref: str | Callable) -> Callable:
    """The module factory an import path names.

    Args:
        ref: ``"package.module:name"`` (``name`` may be dotted, e.g. ``"mypkg.nets:Net.factory"``),
            or a callable (returned as is).

    Returns:
        The factory.

    Raises:
        ValueError: ``ref`` is not of the form ``"package.module:name"``.
        ModuleNotFoundError, AttributeError: the module or the name does not exist.
        TypeError: the name is not callable.

    Example:
        >>> resolve_model("connectome_priors.models.examples:rnncell_net").__name__
        'rnncell_net'
    """
    if callable(ref):
        return ref
    mod_name, sep, attr = str(ref).partition(":")
    if not sep or not mod_name or not attr:
        raise ValueError(f"model {ref!r} must be 'package.module:factory'")
    obj = importlib.import_module(mod_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"model {ref!r} resolved to a non-callable {type(obj).__name__}")
    return obj


def factory_ref(factory) -> str | None:
    """``"module:qualname"`` when ``resolve_model`` can import ``factory`` again, else ``None``."""
    mod, qual = getattr(factory, "__module__", None), getattr(factory, "__qualname__", None)
    if not mod or not qual or "<" in qual or "(" in qual:
        return None
    try:
        return f"{mod}:{qual}" if resolve_model(f"{mod}:{qual}") is factory else None
    except Exception:
        return None


def factory_accepts(factory) -> set[str] | None:
    """Keyword names the factory accepts (``None``: any, it takes ``**kwargs``)."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return set()
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return {n for n, p in sig.parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def build_module(factory: Callable, seed: int, kwargs: dict[str, Any]) -> Any:
    """``factory(seed, **kwargs)`` with only the keywords it accepts, after seeding
    ``brainstate.random`` (which brainpy 2.8's ``bm.random`` initializers draw from) with ``seed``."""
    accepted = factory_accepts(factory)
    kw = {k: v for k, v in kwargs.items() if accepted is None or k in accepted}
    brainstate.random.seed(int(seed))
    module = factory(int(seed), **kw)
    if module is None or not hasattr(module, "__dict__"):
        raise TypeError(f"the factory {getattr(factory, '__name__', factory)!r} returned {module!r} for seed {seed}; "
                        "it must return a brainstate.nn.Module or a brainpy DynamicalSystem")
    return module


def load_params(module: Any, values: dict[str, Any]) -> None:
    """Assign trained parameters and buffers to ``module``'s states (outside any trace).

    Args:
        module: a module built by the factory that was trained.
        values: ``TrainResult.seed_params(i)``, a flat dict parameter name -> array.

    Raises:
        KeyError: ``values`` lacks some of the module's parameters.
    """
    params, buffers, _ = discover(module)
    layout = ParamLayout({**params, **buffers})
    missing = set(layout.names) - set(values)
    if missing:
        raise KeyError(f"no values for parameters {sorted(missing)}")
    layout.write(values)
