"""``MICrONSInit``: the functional initialization as a brainpy / braintools initializer.

One object satisfies both initializer protocols of the BrainPy ecosystem: it subclasses
``brainpy.init.Initializer`` (``__call__(shape, dtype=None)``; used by ``brainpy.dyn``
cells) and ``braintools.init.Initialization`` (``__call__(size, **kwargs)``; used by
``braintools.init.param`` and hence ``brainstate.nn`` modules). Both bases are plain
``abc.ABC`` classes, so the two can be combined without a metaclass conflict.

Orientation: both ``brainpy.dyn.RNNCell`` (``h @ Wh``) and ``brainstate.nn.Linear``
(``x @ weight``) multiply row vectors from the left, so ``W[pre, post]`` (rows presynaptic)
is the orientation they expect; the matrix is returned as is, never transposed.
"""

from __future__ import annotations

import copy
import os
from typing import Any, Literal

import brainpy
import brainstate
import braintools
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from connectome_priors._compat import compat_attrs

from ._functional_init import (
    _as_field,
    _check_options,
    diagonal_share,
    functional_weights,
    nearest_centroid_subset,
    spectral_radius_of,
)

__all__ = ["MICrONSInit"]

_SEED_HIGH = 2**31 - 1


def apply_dale(w: np.ndarray, excitatory_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Dale's law on a nonnegative W[pre, post], balanced exactly per postsynaptic column.

    A uniformly random set of ``round(f·N)`` presynaptic neurons is excitatory (rows kept
    positive), the rest inhibitory (rows made negative, diagonal included: an inhibitory
    neuron inhibits itself too). In each column j the inhibitory entries are rescaled so that
    Σ_{i∈E} W_ij = Σ_{i∈I} |W_ij|, i.e. every neuron's excitatory and inhibitory input cancel
    exactly (each column sums to 0)::

        W_ij = +W_ij                          i ∈ E
        W_ij = -W_ij · (Σ_E W_kj / Σ_I W_kj)  i ∈ I

    Returns (W, excitatory mask over rows). Raises if some column has no inhibitory input.

    Example::

        >>> w, e = apply_dale(np.ones((5, 5)), 0.8, np.random.default_rng(0))
        >>> np.allclose(w.sum(axis=0), 0), int(e.sum())
        (True, 4)
    """
    n = w.shape[0]
    n_exc = int(round(excitatory_fraction * n))
    if not 1 <= n_exc <= n - 1:
        raise ValueError(f"dale={excitatory_fraction} leaves no excitatory or no inhibitory neuron among N={n}")
    excitatory = np.zeros(n, dtype=bool)
    excitatory[rng.choice(n, size=n_exc, replace=False)] = True
    exc_in = w[excitatory].sum(axis=0)
    inh_in = w[~excitatory].sum(axis=0)
    if np.any(inh_in <= 0):
        cols = np.flatnonzero(inh_in <= 0)[:5].tolist()
        raise ValueError(f"Dale balancing impossible: postsynaptic columns {cols} receive no inhibitory input")
    out = w.astype(np.float64).copy()
    out[~excitatory] = -out[~excitatory] * (exc_in / inh_in)
    return out, excitatory


class MICrONSInit(brainpy.init.Initializer, braintools.init.Initialization):
    """Recurrent-weight initializer from a MICrONS field's functional similarity (Eq. 7).

    ``init(shape)`` returns ``functional_weights(field, seed=..., ...)`` (see its docstring
    for the formula and order of operations) as a float32 JAX array of shape (N, N),
    indexed [pre, post], optionally with Dale's law applied.

    Args:
      field: field name (default "6_6_2", loaded lazily on first call) or a Dataset with the
        ``load_field`` layout (e.g. ``surrogate_field(n, seed)``).
      measure, diagonal, permute, spectral_radius, reference_compat: as in
        ``functional_weights``.
      sign: ``None`` or ``"nonneg"`` (nonnegative start; exclusive with ``dale``).
      dale: excitatory fraction in (0, 1), e.g. 0.8: Dale's law with exact per-column E/I
        balance (see ``apply_dale``), rescaled afterwards to ``spectral_radius``.
      seed: integer for a fixed matrix. ``None``: each call draws a seed from
        ``brainstate.random`` (so ``brainstate.random.seed(s)`` makes a run reproducible), or
        from an ``rng=`` keyword (numpy Generator or brainstate RandomState) if given.
      n_neurons: use the ``n_neurons`` neurons nearest the field's soma centroid (a
        deterministic, spatially compact sub-field) when the model is smaller than the field.
      data_dir: folder of the field folders when ``field`` is a name.

    Attributes:
      metadata: every option, ``reference_compat`` (0/1), the field name and size, and after
        each call ``last_seed``, ``spectral_radius_measured`` and ``diagonal_share``.

    Example::

        >>> import brainpy, connectome_priors as cp
        >>> init = cp.MICrONSInit(field=cp.surrogate_field(30, seed=0), seed=1)
        >>> cell = brainpy.dyn.RNNCell(3, 30, Wh_initializer=init)  # doctest: +SKIP
        >>> init((30, 30)).shape
        (30, 30)
    """

    def __init__(
        self,
        field: xr.Dataset | str = "6_6_2",
        measure: str = "corr*sttc",
        diagonal: Literal["keep", "zero", "only"] = "keep",
        permute: Literal["nodes", "entries"] | None = None,
        spectral_radius: float = 0.95,
        sign: Literal["nonneg"] | None = None,
        dale: float | None = None,
        seed: int | None = None,
        n_neurons: int | None = None,
        reference_compat: bool = False,
        data_dir: str | os.PathLike | None = None,
    ):
        _check_options(measure, diagonal, permute, spectral_radius, 0.1, 0.01, sign)
        if dale is not None:
            if isinstance(dale, bool) or not isinstance(dale, (int, float, np.floating)) or not 0 < dale < 1:
                raise ValueError(f"dale must be the excitatory fraction in (0, 1), e.g. 0.8, got {dale!r}")
            if sign is not None:
                raise ValueError("sign='nonneg' and dale=... are exclusive: Dale's law needs inhibitory rows")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
        if n_neurons is not None and (isinstance(n_neurons, bool) or not isinstance(n_neurons, (int, np.integer))
                                      or n_neurons < 1):
            raise ValueError(f"n_neurons must be None or a positive integer, got {n_neurons!r}")
        if not isinstance(field, (str, xr.Dataset)):
            raise TypeError(f"field must be a field name or an xarray.Dataset, got {type(field).__name__}")
        self.field = field
        self.measure = measure
        self.diagonal = diagonal
        self.permute = permute
        self.spectral_radius = float(spectral_radius)
        self.sign = sign
        self.dale = None if dale is None else float(dale)
        self.seed = None if seed is None else int(seed)
        self.n_neurons = None if n_neurons is None else int(n_neurons)
        self.reference_compat = bool(reference_compat)
        self.data_dir = data_dir
        # shared by with_seed() copies, so a field is loaded once for all of them
        self._cache: dict[str, xr.Dataset] = {"field": field} if isinstance(field, xr.Dataset) else {}
        self.metadata: dict[str, Any] = {
            "initializer": "MICrONSInit",
            "field": field if isinstance(field, str) else str(field.attrs.get("field", "<dataset>")),
            "synthetic": None if isinstance(field, str) else int(field.attrs.get("synthetic", 0)),
            "measure": measure,
            "diagonal": diagonal,
            "permute": permute,
            "spectral_radius": self.spectral_radius,
            "mean": 0.1,
            "floor": 0.01,
            "sign": sign,
            "dale": self.dale,
            "seed": self.seed,
            "n_neurons": self.n_neurons,
            "subsample_rule": "nearest soma centroid" if n_neurons is not None else None,
            **compat_attrs(reference_compat),
        }

    # -- field handling -------------------------------------------------------------------
    def _field(self) -> xr.Dataset:
        if "field" not in self._cache:
            self._cache["field"] = _as_field(self.field, self.data_dir)
        return self._cache["field"]

    def _field_for(self, n: int) -> xr.Dataset:
        ds = self._field()
        n_field = ds.sizes["neuron"]
        name = self.metadata["field"]
        if self.n_neurons is None:
            if n != n_field:
                raise ValueError(
                    f"MICrONSInit: requested a ({n}, {n}) recurrent matrix but field {name} has N={n_field} "
                    f"neurons. Pass n_neurons={n} to use the {n} neurons nearest the field's soma centroid"
                    + (f" (needs n <= {n_field})" if n > n_field else "")
                    + f", or field=surrogate_field({n}, seed) for a synthetic field of that size."
                )
            self.metadata["n_field"] = n_field
            return ds
        if n != self.n_neurons:
            raise ValueError(f"MICrONSInit: requested a ({n}, {n}) matrix but n_neurons={self.n_neurons}")
        self.metadata["n_field"] = n_field
        return nearest_centroid_subset(ds, self.n_neurons)

    def _draw_seed(self, rng: Any) -> int:
        if self.seed is not None:
            return self.seed
        if rng is None:
            drawn = brainstate.random.randint(0, _SEED_HIGH)
            # under a jax transformation (brainpy builds parameters inside a jit) the seed is a
            # tracer: __call__ then computes the matrix on the host through a callback
            return drawn if isinstance(drawn, jax.core.Tracer) else int(drawn)
        if isinstance(rng, np.random.Generator):
            return int(rng.integers(0, _SEED_HIGH))
        if isinstance(rng, np.random.RandomState):
            return int(rng.randint(0, _SEED_HIGH))
        if hasattr(rng, "randint"):  # brainstate.random.RandomState
            return int(rng.randint(0, _SEED_HIGH))
        raise TypeError(f"rng must be a numpy Generator/RandomState or a brainstate RandomState, got {type(rng).__name__}")

    # -- the initializer protocol ---------------------------------------------------------
    def __call__(self, shape, dtype=None, **kwargs):
        size = (int(shape),) * 2 if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
        if len(size) != 2 or size[0] != size[1]:
            raise ValueError(f"MICrONSInit makes square recurrent matrices (N, N); got shape {tuple(size)}")
        seed = self._draw_seed(kwargs.get("rng"))
        if isinstance(seed, jax.core.Tracer):
            host = lambda s: self._matrix(size[0], int(s)).astype(np.float32)  # noqa: E731
            w = jax.pure_callback(host, jax.ShapeDtypeStruct(size, jnp.float32), seed)
            return w.astype(dtype or jnp.float32)
        return jnp.asarray(self._matrix(size[0], seed), dtype=dtype or jnp.float32)

    def _matrix(self, n: int, seed: int) -> np.ndarray:
        """The (n, n) float64 matrix for ``seed`` (numpy, on the host)."""
        w = functional_weights(
            self._field_for(n),
            seed=seed,
            measure=self.measure,
            diagonal=self.diagonal,
            permute=self.permute,
            spectral_radius=self.spectral_radius,
            sign=self.sign,
            reference_compat=self.reference_compat,
        ).astype(np.float64)
        if self.dale is not None:
            # separate stream from the weights' so E/I assignment does not shift the lognormal draws
            w, excitatory = apply_dale(w, self.dale, np.random.default_rng([seed, 1]))
            w = w * (self.spectral_radius / spectral_radius_of(w))
            self.metadata["n_excitatory"] = int(excitatory.sum())
        self.metadata["last_seed"] = seed
        self.metadata["spectral_radius_measured"] = spectral_radius_of(w)
        self.metadata["diagonal_share"] = diagonal_share(w)
        return w

    def with_seed(self, seed: int) -> MICrONSInit:
        """A copy with a fixed ``seed`` (shares the loaded field); e.g. one per network."""
        if seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        new = copy.copy(self)
        new.seed = int(seed)
        new.metadata = {**self.metadata, "seed": int(seed)}
        return new

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.metadata.items()
                         if k in ("field", "measure", "diagonal", "permute", "spectral_radius", "sign", "dale",
                                  "seed", "n_neurons", "reference_compat"))
        return f"MICrONSInit({opts})"
