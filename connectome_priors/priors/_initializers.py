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
from collections.abc import Sequence
from typing import Any, Literal

import brainpy
import brainstate
import braintools
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from connectome_priors._compat import compat_attrs

from ._dale import DEFAULT_EXC_FRACTION, apply_dale, normalize_layout
from ._functional_init import (
    _as_field,
    _check_options,
    diagonal_share,
    functional_weights,
    nearest_centroid_subset,
    spectral_radius_of,
)
from ._signs import check_sign

__all__ = ["MICrONSInit"]

_SEED_HIGH = 2**31 - 1


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
      sign: one of ``connectome_priors.priors.SIGNS`` (``_signs``): ``"free"`` (default; the
        functional init is nonnegative by construction), ``"nonneg"`` (recorded as such, for
        models that also constrain the sign in training) or ``"dale"`` (Dale's law with the
        layout ``dale``, default fraction ``DEFAULT_EXC_FRACTION``).
      dale: the Dale layout (see ``connectome_priors.priors._dale``): an excitatory fraction in
        (0, 1] -- the first ``round(f N)`` rows are excitatory -- or your own boolean excitatory
        mask of length N. Implies ``sign="dale"`` (exclusive with ``"nonneg"``). The inhibitory
        rows are scaled so that the matrix sums to 0, then the whole matrix is rescaled to
        ``spectral_radius``.
      seed: integer for a fixed matrix. ``None``: each call draws a seed from
        ``brainstate.random`` (so ``brainstate.random.seed(s)`` makes a run reproducible), or
        from an ``rng=`` keyword (numpy Generator or brainstate RandomState) if given.
      n_neurons: use the ``n_neurons`` neurons nearest the field's soma centroid (a
        deterministic, spatially compact sub-field) when the model is smaller than the field.
      data_dir: folder of the field folders when ``field`` is a name.

    Attributes:
      metadata: every option (``dale``: the fraction, or the mask as a list of bools),
        ``reference_compat`` (0/1), the field name and size, and after each call ``last_seed``,
        ``spectral_radius_measured``, ``diagonal_share`` (and ``n_excitatory`` for Dale).

    Raises:
      ValueError: an unknown ``sign``, ``sign="nonneg"`` with ``dale``, a bad Dale layout, a bad
        ``seed`` / ``n_neurons``, or (when called) a shape that does not fit the field.
      TypeError: ``field`` is neither a name nor a Dataset.

    Example::

        >>> import brainpy, connectome_priors as cp
        >>> init = cp.MICrONSInit(field=cp.surrogate_field(30, seed=0), seed=1)
        >>> cell = brainpy.dyn.RNNCell(3, 30, Wh_initializer=init)  # doctest: +SKIP
        >>> init((30, 30)).shape
        (30, 30)
        >>> w = cp.MICrONSInit(field=cp.surrogate_field(30, seed=0), seed=1, dale=0.8)((30, 30))
        >>> bool((w[:24] >= 0).all() and (w[24:] <= 0).all()), abs(float(w.sum())) < 1e-4
        (True, True)
    """

    def __init__(
        self,
        field: xr.Dataset | str = "6_6_2",
        measure: str = "corr*sttc",
        diagonal: Literal["keep", "zero", "only"] = "keep",
        permute: Literal["nodes", "entries"] | None = None,
        spectral_radius: float = 0.95,
        sign: Literal["free", "nonneg", "dale"] = "free",
        dale: float | Sequence[bool] | np.ndarray | None = None,
        seed: int | None = None,
        n_neurons: int | None = None,
        reference_compat: bool = False,
        data_dir: str | os.PathLike | None = None,
    ):
        check_sign(sign)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
        if n_neurons is not None and (isinstance(n_neurons, bool) or not isinstance(n_neurons, (int, np.integer))
                                      or n_neurons < 1):
            raise ValueError(f"n_neurons must be None or a positive integer, got {n_neurons!r}")
        if not isinstance(field, (str, xr.Dataset)):
            raise TypeError(f"field must be a field name or an xarray.Dataset, got {type(field).__name__}")
        if dale is not None:
            if sign == "nonneg":
                raise ValueError("sign='nonneg' and dale=... are exclusive: Dale's law needs inhibitory rows")
            sign = "dale"
            try:
                dale = normalize_layout(dale, n_neurons)
            except ValueError as err:
                raise ValueError(f"MICrONSInit(dale=...): {err}") from None
        elif sign == "dale":
            dale = DEFAULT_EXC_FRACTION
        # the functional init takes the old spelling (None or "nonneg"); "dale" is applied here
        _check_options(measure, diagonal, permute, spectral_radius, 0.1, 0.01, "nonneg" if sign == "nonneg" else None)
        self.field = field
        self.measure = measure
        self.diagonal = diagonal
        self.permute = permute
        self.spectral_radius = float(spectral_radius)
        self.sign = sign
        self.dale = dale  # None, a fraction or a tuple of bools (normalize_layout)
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
            "dale": list(dale) if isinstance(dale, tuple) else dale,
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
        raise TypeError("rng must be a numpy Generator/RandomState or a brainstate RandomState, "
                        f"got {type(rng).__name__}")

    # -- the initializer protocol ---------------------------------------------------------
    def __call__(self, shape, dtype=None, **kwargs):
        if dtype is not None and not jnp.issubdtype(jnp.dtype(dtype), jnp.floating):
            raise TypeError(f"MICrONSInit draws real-valued weights; dtype={jnp.dtype(dtype)} would truncate them "
                            "(to zeros); use a floating dtype such as float32")
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
            sign="nonneg" if self.sign == "nonneg" else None,
            reference_compat=self.reference_compat,
        ).astype(np.float64)
        if self.sign == "dale":
            w, excitatory = apply_dale(w, self.dale)
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
        def show(key: str, value: Any) -> str:
            if key == "dale" and isinstance(value, list):  # a mask: its size, not 300 booleans
                return f"mask({sum(value)} of {len(value)} excitatory)"
            return repr(value)

        opts = ", ".join(f"{k}={show(k, v)}" for k, v in self.metadata.items()
                         if k in ("field", "measure", "diagonal", "permute", "spectral_radius", "sign", "dale",
                                  "seed", "n_neurons", "reference_compat"))
        return f"MICrONSInit({opts})"
