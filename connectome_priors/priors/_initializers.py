"""``MICrONSInit``: the functional initialization as a brainpy / braintools initializer.

One object satisfies both initializer protocols of the BrainPy ecosystem: it subclasses
``brainpy.init.Initializer`` (``__call__(shape, dtype=None)``; used by ``brainpy.dyn``
cells) and ``braintools.init.Initialization`` (``__call__(size, **kwargs)``; used by
``braintools.init.param`` and hence ``brainstate.nn`` modules). Both bases are plain
``abc.ABC`` classes, so the two can be combined without a metaclass conflict.

Orientation: both ``brainpy.dyn.RNNCell`` (``h @ Wh``) and ``brainstate.nn.Linear``
(``x @ weight``) multiply row vectors from the left, so ``W[pre, post]`` (rows presynaptic)
is the orientation they expect; the matrix is returned as is, never transposed.

Gated and concatenated cells (the layouts ``MICrONSInit.__call__`` accepts):

* brainpy 2.x ``bp.dyn.GRUCell`` / ``bp.dyn.LSTMCell``: ``Wh`` is (N, 3N) / (N, 4N), the gates'
  (N, N) blocks side by side (GRU columns [z | r | candidate], LSTM [i | g | f | o]); the inputs
  have their own ``Wi``.
* brainstate ``nn.ValinaRNNCell`` / ``nn.GRUCell`` / ``nn.LSTMCell``: one ``Linear(n_in + N, k N)``
  applied to ``concatenate([x, h])``, so the **first n_in rows** multiply the input and the
  **last N rows** the hidden state (``brainstate/nn/_rnns.py``). ValinaRNN: (n_in + N, N); LSTM:
  (n_in + N, 4N) with columns [i | g | f | o]; GRU calls ``w_init`` twice: ``Wrz`` (n_in + N, 2N)
  with columns [r | z] and ``Wh`` (n_in + N, N) for the candidate (its hidden rows multiply r * h).
"""

from __future__ import annotations

import copy
import functools
import inspect
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
    _isel_neurons,
    _nearest_centroid_index,
    diagonal_share,
    functional_weights,
    spectral_radius_of,
)
from ._signs import check_sign

__all__ = ["MICrONSInit"]

_SEED_HIGH = 2**31 - 1
_LARGEST_PUBLISHED = ("9_3_2", 632)  # fallback when the field registry cannot be read


@functools.lru_cache(maxsize=1)
def _largest_published_field() -> tuple[str, int]:
    """(field id, neurons) of the largest published field, from the registry shipped with the package."""
    try:
        from connectome_priors.fields._download import list_fields

        table = list_fields().dropna(subset=["n_neurons"])
        row = table.loc[table["n_neurons"].idxmax()]
        return str(row["field"]), int(row["n_neurons"])
    except Exception:  # noqa: BLE001 -- only for an error message; never hide the user's error behind ours
        return _LARGEST_PUBLISHED


def _takes_rng(f: Any) -> bool:
    """Whether the callable ``f`` accepts an ``rng=`` keyword (braintools / brainstate initializers do)."""
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "rng" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def _derived_seed(seed: int, *key: int) -> int:
    return int(np.random.SeedSequence(int(seed), spawn_key=key).generate_state(1)[0]) % _SEED_HIGH


class MICrONSInit(brainpy.init.Initializer, braintools.init.Initialization):
    """Recurrent-weight initializer from a MICrONS field's functional similarity (Eq. 7).

    ``init(shape)`` returns ``functional_weights(field, seed=..., ...)`` (see its docstring for the
    formula and order of operations) as a float32 JAX array indexed [pre, post], optionally with
    Dale's law applied: one (N, N) block per gate, plus input rows for a concatenated matrix.

    Shapes (N = ``n_neurons``, or the field's size when ``n_neurons`` is not given; k >= 1 gates):

    ==================  ===============================================================  ===================
    shape               read as                                                          e.g.
    ==================  ===============================================================  ===================
    (N, N)              a recurrent matrix                                               ``bp.dyn.RNNCell``
    (N, k N)            gated: k (N, N) blocks side by side (gate g: columns g N..)      ``bp.dyn.GRUCell``
                                                                                         (k=3), ``LSTMCell``
                                                                                         (k=4)
    (n_in + N, k N)     concatenated [input rows; hidden rows]: the first n_in rows      ``brainstate.nn``
                        multiply the input, the **last N** rows the hidden state (the     ``ValinaRNNCell``,
                        brainstate convention); the hidden rows get the k blocks, the    ``GRUCell``,
                        input rows ``input_initializer``                                 ``LSTMCell``
    ==================  ===============================================================  ===================

    Without ``n_neurons`` a shape is read with N = the field's size only if it cannot also be a
    matrix of its own row count's neurons: (m, c) with m != N and c a multiple of m (e.g. the
    square (2N, 2N) ``Wrz`` of a brainstate GRU with n_in = N) is refused with a message asking
    for ``n_neurons``. With ``n_neurons`` every shape is unambiguous.

    Which draw each block gets: block g of a k-gate matrix uses ``gate_seed(seed, g, k)`` -- the
    seed itself when k = 1 (so an (N, N) matrix and the hidden rows of a brainstate
    ``ValinaRNNCell`` equal ``functional_weights(sub_field, seed=seed)``), else a seed derived
    from (seed, k, g) by ``numpy.random.SeedSequence(seed, spawn_key=(k, g))``. All blocks share
    the field's functional structure F and differ in the lognormal factor only; distinct k keep
    a brainstate GRU's ``Wrz`` (k=2) and ``Wh`` (k=1) blocks distinct too. The input rows are
    ``input_initializer(shape)[:n_in]`` -- exactly the input rows the cell would get from that
    initializer on its own -- drawn with ``rng=brainstate.random.RandomState(s)``, ``s`` derived
    from (seed, 0, k), when the initializer takes ``rng=`` (braintools and brainstate ones do);
    under a jax trace (an unseeded init inside ``jit``) they draw from the initializer's own RNG.

    Args:
      field: field name (default "6_6_2", loaded lazily on first call) or a Dataset with the
        ``load_field`` layout (e.g. ``surrogate_field(n, seed)``, for more neurons than a
        published field has).
      measure, diagonal, permute, spectral_radius, reference_compat: as in
        ``functional_weights`` (each block is rescaled to ``spectral_radius``).
      sign: one of ``connectome_priors.priors.SIGNS`` (``_signs``): ``"free"`` (default; the
        functional init is nonnegative by construction), ``"nonneg"`` (recorded as such, for
        models that also constrain the sign in training) or ``"dale"`` (Dale's law with the
        layout ``dale``, default fraction ``DEFAULT_EXC_FRACTION``).
      dale: the Dale layout (see ``connectome_priors.priors._dale``): an excitatory fraction in
        (0, 1] -- the first ``round(f N)`` rows are excitatory -- or your own boolean excitatory
        mask of length N. Implies ``sign="dale"`` (exclusive with ``"nonneg"``). The inhibitory
        rows are scaled so that the matrix sums to 0, then the whole matrix is rescaled to
        ``spectral_radius``. Applied to every gate's block (a hidden neuron has one sign in all
        gates); input rows are left alone.
      seed: integer for a fixed matrix. ``None``: each call draws a seed from
        ``brainstate.random`` (so ``brainstate.random.seed(s)`` makes a run reproducible), or
        from an ``rng=`` keyword (numpy Generator or brainstate RandomState) if given.
      n_neurons: use the ``n_neurons`` neurons nearest the field's soma centroid (a
        deterministic, spatially compact sub-field) when the model is smaller than the field;
        ``selected_neurons()`` returns their ids.
      data_dir: folder of the field folders when ``field`` is a name.
      input_initializer: callable ``f(shape)`` for the input rows of a concatenated matrix
        (default ``brainstate.nn.init.XavierNormal()``: Glorot, truncated normal -- the default
        of brainstate's ``LSTMCell`` and ``ValinaRNNCell``; for a ``GRUCell`` pass
        ``brainstate.nn.init.Orthogonal()`` to match its default).

    Attributes:
      metadata: every option (``dale``: the fraction, or the mask as a list of bools),
        ``reference_compat`` (0/1), the field name and size (``n_field``); ``neuron_ids`` (the
        field's ``neuron`` coordinate values of the rows, in order) and ``neuron_index`` (their
        positions in the field); after each call the layout -- ``shape``, ``layout``
        ("square" | "gated" | "concatenated"), ``gates`` (k), ``concatenated``, ``n_inputs`` --
        and ``last_seed``, ``gate_seeds``, and of block 0 ``spectral_radius_measured``,
        ``diagonal_share`` (and ``n_excitatory`` for Dale).

    Raises:
      ValueError: an unknown ``sign``, ``sign="nonneg"`` with ``dale``, a bad Dale layout, a bad
        ``seed`` / ``n_neurons``, ``n_neurons`` larger than a Dataset ``field``, or (when called) a
        shape that fits none of the layouts above or an N larger than the field.
      TypeError: ``field`` is neither a name nor a Dataset; ``input_initializer`` is not callable.

    Example::

        >>> import brainpy, brainstate, connectome_priors as cp
        >>> init = cp.MICrONSInit(field=cp.surrogate_field(30, seed=0), seed=1)
        >>> cell = brainpy.dyn.RNNCell(3, 30, Wh_initializer=init)  # doctest: +SKIP
        >>> init((30, 30)).shape
        (30, 30)
        >>> w = cp.MICrONSInit(field=cp.surrogate_field(30, seed=0), seed=1, dale=0.8)((30, 30))
        >>> bool((w[:24] >= 0).all() and (w[24:] <= 0).all()), abs(float(w.sum())) < 1e-4
        (True, True)
        >>> gru = brainstate.nn.GRUCell(3, 30, w_init=init)      # Wrz (33, 60) and Wh (33, 30)
        >>> init.metadata["layout"], init.metadata["gates"], init.metadata["n_inputs"]
        ('concatenated', 1, 3)
        >>> init((30, 90)).shape, init.metadata["layout"]           # brainpy GRUCell's Wh: 3 gates
        ((30, 90), 'gated')
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
        input_initializer: Any = None,
    ):
        check_sign(sign)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
        if n_neurons is not None and (isinstance(n_neurons, bool) or not isinstance(n_neurons, (int, np.integer))
                                      or n_neurons < 1):
            raise ValueError(f"n_neurons must be None or a positive integer, got {n_neurons!r}")
        if not isinstance(field, (str, xr.Dataset)):
            raise TypeError(f"field must be a field name or an xarray.Dataset, got {type(field).__name__}")
        if input_initializer is None:
            input_initializer = brainstate.nn.init.XavierNormal()
        elif not callable(input_initializer):
            raise TypeError("input_initializer must be a callable f(shape) (e.g. brainstate.nn.init.Orthogonal()), "
                            f"got {type(input_initializer).__name__}")
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
        self.input_initializer = input_initializer
        # shared by with_seed() copies, so a field is loaded (and its neurons selected) once for all of them
        self._cache: dict[str, Any] = {"field": field} if isinstance(field, xr.Dataset) else {}
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
            "input_initializer": type(input_initializer).__name__,
            "neuron_ids": None,
            "neuron_index": None,
            **compat_attrs(reference_compat),
        }
        if isinstance(field, xr.Dataset) and self.n_neurons is not None:
            self._check_fits(self.n_neurons, "n_neurons")

    # -- field handling -------------------------------------------------------------------
    def _field(self) -> xr.Dataset:
        if "field" not in self._cache:
            self._cache["field"] = _as_field(self.field, self.data_dir)
        return self._cache["field"]

    def _n_field(self) -> int:
        n_field = int(self._field().sizes["neuron"])
        self.metadata["n_field"] = n_field
        return n_field

    def _too_large(self, n: int, via: str) -> str:
        """The message for N = ``n`` neurons beyond the field, with the ways out."""
        n_field = self._n_field()
        big, big_n = _largest_published_field()
        other = (f"another field (the largest published field, {big}, has {big_n} neurons"
                 + ("" if n <= big_n else f", also fewer than {n}") + ")")
        return (f"MICrONSInit: N={n} neurons requested ({via}) but field {self.metadata['field']} has only {n_field} "
                f"neurons. Options: a smaller N (n_neurons=N <= {n_field} uses the N neurons nearest the field's soma "
                f"centroid); {other}; or a synthetic field of that size as the field: "
                f"MICrONSInit(surrogate_field({n}, seed=0), ...)")

    def _check_fits(self, n: int, via: str) -> None:
        """ValueError (with the ways out) when N = ``n`` neurons exceeds the field."""
        if n > self._n_field():
            raise ValueError(self._too_large(n, via))

    def _index(self) -> np.ndarray:
        """Positions in the field of the rows' neurons (all of them, or the ``n_neurons`` nearest the centroid)."""
        if "index" not in self._cache:
            n_field = self._n_field()
            if self.n_neurons is None:
                index = np.arange(n_field)
            else:
                self._check_fits(self.n_neurons, "n_neurons")
                index = _nearest_centroid_index(self._field(), self.n_neurons)
            self._cache["index"] = index
        index = self._cache["index"]
        ds = self._field()
        ids = ds["neuron"].values[index] if "neuron" in ds.coords else index
        self.metadata["neuron_index"] = index.tolist()
        self.metadata["neuron_ids"] = ids.tolist()
        return index

    def selected_neurons(self) -> np.ndarray:
        """The ids of the neurons behind the matrix's rows (and columns), in row order.

        The values of the field's ``neuron`` coordinate (EM root ids for a MICrONS field): all of
        the field's neurons, or with ``n_neurons`` the ``n_neurons`` nearest the soma centroid (in
        the field's order; :func:`~connectome_priors.priors.nearest_centroid_subset`). Pass them
        (or the initializer itself) as ``neurons=`` to ``distance_matrix`` /
        ``empirical_communicability`` for the priors of the same neurons. Loads the field if it
        is not loaded yet; also sets ``metadata["neuron_ids"]`` and ``["neuron_index"]``.

        Returns:
          1-D numpy array of N neuron ids (positions 0..N-1 for a Dataset without a ``neuron``
          coordinate).

        Raises:
          ValueError: ``n_neurons`` exceeds the field's size.

        Example::

            >>> import numpy as np, connectome_priors as cp
            >>> init = cp.MICrONSInit("5_3_8", n_neurons=8, seed=0)
            >>> ids = init.selected_neurons()
            >>> len(ids), bool(np.isin(ids, cp.load_field("5_3_8").neuron.values).all())
            (8, True)
            >>> cp.distance_matrix("5_3_8", neurons=ids).shape
            (8, 8)
        """
        index = self._index()
        ds = self._field()
        return np.asarray(ds["neuron"].values[index] if "neuron" in ds.coords else index.copy())

    def _layout(self, size: tuple[int, int]) -> tuple[int, int, int]:
        """(N, n_inputs, gates) of a 2-D ``size``, or a ValueError naming the accepted shapes."""
        m, c = size
        accepted = ("accepted shapes: (N, N) square recurrent, (N, k*N) gated (k blocks side by side, e.g. "
                    "bp.dyn.GRUCell/LSTMCell Wh) or (n_in + N, k*N) concatenated [input rows; hidden rows] "
                    "(brainstate nn.GRUCell/LSTMCell/ValinaRNNCell)")
        name = self.metadata["field"]
        if m < 1 or c < 1:
            raise ValueError(f"MICrONSInit: shape {size} is empty; {accepted}")
        if self.n_neurons is not None:
            n = self.n_neurons
            if c % n or m < n:
                raise ValueError(f"MICrONSInit: shape {size} does not fit n_neurons={n}; {accepted}, "
                                 f"N = {n} from n_neurons")
            self._check_fits(n, f"n_neurons={n}")
            return n, m - n, c // n
        n_field = self._n_field()
        if c % n_field == 0 and (m == n_field or (m > n_field and c % m)):
            return n_field, m - n_field, c // n_field
        if c % m == 0:  # a square or gated matrix of m neurons
            if m > n_field:
                concat = (f" (If {size} is a concatenated [input; hidden] matrix of the field's {n_field} neurons, "
                          f"pass n_neurons={n_field}.)") if c % n_field == 0 else ""
                raise ValueError(f"{self._too_large(m, f'shape {size}')}.{concat}")
            raise ValueError(
                f"MICrONSInit: requested a {size} matrix of {m} neurons but field {name} has N={n_field} "
                f"neurons. Pass n_neurons={m} to use the {m} neurons nearest the field's soma centroid, or "
                f"field=surrogate_field({m}, seed) for a synthetic field of that size; {accepted}, "
                f"N = {n_field} from the field when n_neurons is not given."
            )
        raise ValueError(f"MICrONSInit: shape {size} does not fit field {name}; {accepted}, N = {n_field} from the "
                         "field when n_neurons is not given (pass n_neurons=N for a model of N neurons).")

    def _draw_seed(self, rng: Any) -> Any:
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

    @staticmethod
    def gate_seed(seed: int, gate: int = 0, gates: int = 1) -> int:
        """The seed of gate ``gate``'s (N, N) block in a matrix of ``gates`` blocks.

        ``seed`` itself when ``gates == 1``; else
        ``SeedSequence(seed, spawn_key=(gates, gate)).generate_state(1)[0] % (2**31 - 1)``.

        Args:
          seed: the initializer's seed (``metadata["last_seed"]``).
          gate: the block, 0 <= gate < gates (columns ``gate*N .. (gate+1)*N``).
          gates: k, the number of blocks of the matrix.

        Returns:
          The block's seed: the block equals ``functional_weights(sub_field, seed=gate_seed(...))``
          (before Dale's law).

        Raises:
          ValueError: ``gate`` outside [0, gates) or a negative seed.

        Example::

            >>> MICrONSInit.gate_seed(7), MICrONSInit.gate_seed(7, 0, 3) != MICrONSInit.gate_seed(7, 1, 3)
            (7, True)
        """
        if not 0 <= int(gate) < int(gates) or int(seed) < 0:
            raise ValueError(f"gate_seed: need seed >= 0 and 0 <= gate < gates, got seed={seed}, gate={gate}, "
                             f"gates={gates}")
        return int(seed) if int(gates) == 1 else _derived_seed(seed, int(gates), int(gate))

    # -- the initializer protocol ---------------------------------------------------------
    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> jax.Array:
        """The weight matrix for ``shape`` (see the class docstring for the layouts).

        Args:
          shape: an int N (for (N, N)) or a 2-tuple.
          dtype: a floating dtype (default float32).
          **kwargs: ``rng`` -- a numpy Generator / RandomState or brainstate RandomState to draw
            the seed from when ``seed`` is None.

        Returns:
          float JAX array of ``shape``, indexed [pre, post] (input rows first when concatenated).

        Raises:
          TypeError: a non-floating ``dtype``.
          ValueError: a shape that fits none of the layouts, or an N larger than the field.

        Example::

            >>> import numpy as np, connectome_priors as cp
            >>> init = cp.MICrONSInit(cp.surrogate_field(10, seed=0), seed=0)
            >>> w = np.asarray(init((13, 40)))            # brainstate LSTMCell(3, 10): (3 + 10, 4 * 10)
            >>> init.metadata["layout"], init.metadata["n_inputs"], init.metadata["gates"]
            ('concatenated', 3, 4)
            >>> bool(np.allclose(w[3:, :10], cp.functional_weights(init.field, seed=init.gate_seed(0, 0, 4))))
            True
        """
        if dtype is not None and not jnp.issubdtype(jnp.dtype(dtype), jnp.floating):
            raise TypeError(f"MICrONSInit draws real-valued weights; dtype={jnp.dtype(dtype)} would truncate them "
                            "(to zeros); use a floating dtype such as float32")
        size = (int(shape),) * 2 if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
        if len(size) != 2:
            raise ValueError(f"MICrONSInit makes 2-D weight matrices: (N, N) square recurrent, (N, k*N) gated or "
                             f"(n_in + N, k*N) concatenated; got shape {size}")
        n, n_in, gates = self._layout(size)
        self._index()  # selects the neurons and records them in the metadata
        self.metadata.update(shape=list(size), gates=gates, concatenated=n_in > 0, n_inputs=n_in,
                             layout="concatenated" if n_in else ("gated" if gates > 1 else "square"))
        seed = self._draw_seed(kwargs.get("rng"))
        hidden_shape = (n, gates * n)
        if isinstance(seed, jax.core.Tracer):
            host = lambda s: self._recurrent(n, gates, int(s)).astype(np.float32)  # noqa: E731
            hidden = jax.pure_callback(host, jax.ShapeDtypeStruct(hidden_shape, jnp.float32), seed)
        else:
            hidden = jnp.asarray(self._recurrent(n, gates, seed), dtype=jnp.float32)
        if n_in:
            hidden = jnp.concatenate([self._input_rows(size, n_in, gates, seed), hidden], axis=0)
        return hidden.astype(dtype or jnp.float32)

    def _input_rows(self, size: tuple[int, int], n_in: int, gates: int, seed: Any) -> jax.Array:
        """The first ``n_in`` rows of ``input_initializer(size)``, seeded from ``seed`` when it is concrete."""
        f = self.input_initializer
        if not isinstance(seed, jax.core.Tracer) and _takes_rng(f):
            full = f(size, rng=brainstate.random.RandomState(_derived_seed(seed, 0, gates)))
        else:
            full = f(size)
        full = jnp.asarray(full, dtype=jnp.float32)
        if full.shape != size:
            raise ValueError(f"MICrONSInit: input_initializer returned shape {full.shape} for shape {size}")
        return full[:n_in]

    def _recurrent(self, n: int, gates: int, seed: int) -> np.ndarray:
        """The (n, gates * n) float64 hidden rows for ``seed`` (numpy, on the host)."""
        sub = _isel_neurons(self._field(), self._index())
        # Each gate is an independent draw of the same prior (the field's functional structure F times
        # its own lognormal factor), as a stock initializer draws each gate's block independently;
        # identical blocks would start every gate perfectly correlated, a symmetry nothing else imposes.
        seeds = [self.gate_seed(seed, g, gates) for g in range(gates)]
        blocks = [self._block(sub, s) for s in seeds]
        self.metadata["last_seed"] = seed
        self.metadata["gate_seeds"] = seeds
        self.metadata["spectral_radius_measured"] = spectral_radius_of(blocks[0])
        self.metadata["diagonal_share"] = diagonal_share(blocks[0])
        return np.concatenate(blocks, axis=1)

    def _block(self, sub: xr.Dataset, seed: int) -> np.ndarray:
        """One (n, n) float64 block: the functional init for ``seed``, with Dale's law if asked."""
        w = functional_weights(
            sub,
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
        return w

    def _matrix(self, n: int, seed: int) -> np.ndarray:
        """The (n, n) float64 matrix for ``seed`` (numpy, on the host); n must be N."""
        return self._recurrent(n, 1, seed)

    def with_seed(self, seed: int) -> MICrONSInit:
        """A copy with a fixed ``seed`` (shares the loaded field); e.g. one per network.

        Args:
          seed: a non-negative integer.

        Returns:
          The copy (the original is unchanged).

        Raises:
          ValueError: ``seed`` is not a non-negative integer.

        Example::

            >>> import connectome_priors as cp
            >>> cp.MICrONSInit(cp.surrogate_field(6, seed=0)).with_seed(3).seed
            3
        """
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
