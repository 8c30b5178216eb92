"""Functional similarity between neurons from their spike trains.

Three measures, with the conventions of the published MICrONS field files (so that a user's
own recording gives matrices comparable to the shipped ``sttc_matrix.npy``,
``corr_matrix.npy`` and ``precision_matrix.npy``):

* the spike time tiling coefficient (Cutts & Eglen 2014), ``dt = 0.1 s``;
* the Pearson correlation of spike counts in ``0.2 s`` bins from ``t = 0``;
* the graphical-lasso precision matrix of the same binned counts (``GraphicalLassoCV``).

The recording window is ``[0, t_stop]`` with, by default, ``t_stop = t_last + 0.1 s`` where
``t_last`` is the last spike of the whole field (:func:`recording_end`).

All pairs are computed at once: the spikes of the whole field are sorted once and each spike's
neighbours within ``±dt`` found with ``searchsorted``; no Python loop runs over pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

STTC_DT = 0.1  # s, synchrony window of the published STTC
BIN_SIZE = 0.2  # s, count bins of the published correlation and precision
END_PAD = 0.1  # s, recording end = last spike of the field + END_PAD


def _as_trains(spike_trains: Sequence[np.ndarray], name: str = "spike_trains") -> list[np.ndarray]:
    """Validate spike trains: a sequence of sorted, finite, non-negative 1-D float arrays."""
    if isinstance(spike_trains, np.ndarray) and spike_trains.dtype != object and spike_trains.ndim != 1:
        raise ValueError(
            f"{name} must be a sequence of 1-D spike-time arrays (one per neuron), "
            f"got a {spike_trains.ndim}-D numeric array of shape {spike_trains.shape}"
        )
    trains = []
    for i, t in enumerate(spike_trains):
        t = np.asarray(t, dtype=np.float64)
        if t.ndim != 1:
            raise ValueError(f"{name}[{i}] must be 1-D spike times, got shape {t.shape}")
        if not np.all(np.isfinite(t)):
            raise ValueError(f"{name}[{i}] contains NaN or inf spike times")
        if t.size and t[0] < 0:
            raise ValueError(f"{name}[{i}] has a negative spike time ({t[0]}); the recording starts at 0 s")
        if np.any(np.diff(t) < 0):
            raise ValueError(f"{name}[{i}] is not sorted in increasing time")
        trains.append(t)
    if len(trains) < 2:
        raise ValueError(f"{name} must hold at least 2 neurons, got {len(trains)}")
    return trains


def recording_end(spike_trains: Sequence[np.ndarray], pad: float = END_PAD) -> float:
    """End of the recording window: the last spike of the whole field plus ``pad`` seconds.

    Example::

        >>> recording_end([np.array([0.5, 1.0]), np.array([2.0])])
        2.1
    """
    lasts = [t[-1] for t in _as_trains(spike_trains) if t.size]
    if not lasts:
        raise ValueError("spike_trains holds no spikes at all: the recording window is undefined")
    return float(max(lasts) + pad)


def _window(trains: list[np.ndarray], t_stop: float | None) -> float:
    if t_stop is None:
        return recording_end(trains)
    t_stop = float(t_stop)
    if not np.isfinite(t_stop) or t_stop <= 0:
        raise ValueError(f"t_stop must be a positive number of seconds, got {t_stop}")
    last = max((t[-1] for t in trains if t.size), default=0.0)
    if last > t_stop:
        raise ValueError(f"t_stop={t_stop} s ends before the last spike ({last} s)")
    return t_stop


def bin_spikes(
    spike_trains: Sequence[np.ndarray], *, bin_size: float = BIN_SIZE, t_stop: float | None = None
) -> np.ndarray:
    """Spike counts per neuron in consecutive bins of ``bin_size`` seconds from ``t = 0``.

    ``n_bins = floor(t_stop / bin_size)`` with ``t_stop = t_last + 0.1 s`` by default; bin ``k``
    is ``[k * bin_size, (k + 1) * bin_size)`` (the last one closed), and spikes after the last
    full bin are dropped.

    Returns:
        int64 array of shape ``(n_neurons, n_bins)``.

    Example::

        >>> bin_spikes([np.array([0.05, 0.1, 0.5]), np.array([0.3])], bin_size=0.2)
        array([[2, 0],
               [0, 1]])
    """
    trains = _as_trains(spike_trains)
    if not (np.isfinite(bin_size) and bin_size > 0):
        raise ValueError(f"bin_size must be a positive number of seconds, got {bin_size}")
    t_stop = _window(trains, t_stop)
    n_bins = int(np.floor(t_stop / bin_size))
    if n_bins < 2:
        raise ValueError(f"the window [0, {t_stop}] s holds fewer than 2 bins of {bin_size} s")
    edges = np.arange(n_bins + 1) * bin_size
    counts = np.empty((len(trains), n_bins), dtype=np.int64)
    for i, t in enumerate(trains):
        below = np.searchsorted(t, edges, side="left")  # spikes before each edge
        below[-1] = np.searchsorted(t, edges[-1], side="right")  # last bin closed, as np.histogram
        counts[i] = np.diff(below)
    return counts


def binned_correlation(
    spike_trains: Sequence[np.ndarray], *, bin_size: float = BIN_SIZE, t_stop: float | None = None
) -> np.ndarray:
    """Pearson correlation of binned spike counts between every pair of neurons.

    ``r_ij = cov(c_i, c_j) / (std(c_i) std(c_j))`` with ``c = bin_spikes(...)``. A neuron with
    constant counts (e.g. silent) has no defined correlation: an error names it.

    Example::

        >>> a = np.array([0.1, 0.5, 0.9]); b = np.array([0.3, 0.7])
        >>> binned_correlation([a, a + 0.01, b], bin_size=0.2, t_stop=1.0).round(3)
        array([[ 1.,  1., -1.],
               [ 1.,  1., -1.],
               [-1., -1.,  1.]])
    """
    counts = bin_spikes(spike_trains, bin_size=bin_size, t_stop=t_stop)
    constant = np.flatnonzero(counts.std(axis=1) == 0)
    if constant.size:
        raise ValueError(f"neurons {constant.tolist()} have constant binned counts: correlation undefined")
    return np.corrcoef(counts)


def _coverage(train: np.ndarray, dt: float, t_stop: float) -> float:
    """Fraction of [0, t_stop] within ``dt`` of a spike (the STTC's T_A)."""
    if train.size == 0:
        return 0.0
    lo = np.clip(train - dt, 0.0, t_stop)
    hi = np.clip(train + dt, 0.0, t_stop)
    # equal-width intervals in time order: the union is each interval up to the next one's start
    covered = np.sum(np.minimum(hi[:-1], lo[1:]) - lo[:-1]) + (hi[-1] - lo[-1])
    return float(covered / t_stop)


def sttc_matrix(
    spike_trains: Sequence[np.ndarray], *, dt: float = STTC_DT, t_stop: float | None = None
) -> np.ndarray:
    """Spike time tiling coefficient (Cutts & Eglen 2014) of every pair of neurons.

    ``STTC_AB = 1/2 [(P_A - T_B) / (1 - P_A T_B) + (P_B - T_A) / (1 - P_B T_A)]`` where ``T_A`` is
    the fraction of the window ``[0, t_stop]`` lying within ``±dt`` of a spike of A and ``P_A``
    the fraction of A's spikes within ``±dt`` (inclusive) of a spike of B. A half whose
    denominator is 0 (``P_A T_B = 1``) counts as 1 (as in Elephant); a pair involving a neuron
    without spikes is NaN. The result is symmetric with diagonal 1.

    Example::

        >>> a = np.array([1.0, 2.0, 3.0])
        >>> s = sttc_matrix([a, a + 0.05, a + 0.5], t_stop=4.0)
        >>> s.round(3)
        array([[ 1.  ,  1.  , -0.15],
               [ 1.  ,  1.  , -0.15],
               [-0.15, -0.15,  1.  ]])
    """
    trains = _as_trains(spike_trains)
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a positive number of seconds, got {dt}")
    t_stop = _window(trains, t_stop)
    counts = np.array([t.size for t in trains])
    coverage = np.array([_coverage(t, dt, t_stop) for t in trains])  # T
    near = _near_counts(trains, dt)
    with np.errstate(invalid="ignore", divide="ignore"):
        prop = near / counts[:, None]  # P[a, b] = P_A for the pair (a, b)
        half = _sttc_half(prop, coverage[None, :])  # (P_A - T_B) / (1 - P_A T_B)
    sttc = 0.5 * (half + half.T)
    empty = counts == 0
    sttc[empty, :] = np.nan
    sttc[:, empty] = np.nan
    np.fill_diagonal(sttc, 1.0)
    return sttc


def _near_counts(trains: list[np.ndarray], dt: float, chunk_cells: int = 1 << 22) -> np.ndarray:
    """``near[a, b]``: how many spikes of ``a`` lie within ``±dt`` (inclusive) of a spike of ``b``.

    All spikes of the field are sorted once; each spike's neighbours within ``±dt`` are a
    contiguous slice of that order (two ``searchsorted``). Work is proportional to the number
    of (spike, neighbouring spike) pairs, processed in chunks of spikes as a boolean
    (spike, neuron) table, so no Python loop runs over pairs or neurons.
    """
    n = len(trains)
    counts = np.array([t.size for t in trains])
    times = np.concatenate(trains)
    owner = np.repeat(np.arange(n), counts)
    order = np.argsort(times, kind="stable")
    times, owner = times[order], owner[order]
    lo = np.searchsorted(times, times - dt, side="left")  # first spike >= t - dt
    hi = np.searchsorted(times, times + dt, side="right")  # past the last spike <= t + dt
    near = np.zeros(n * n, dtype=np.int64)
    step = max(1, chunk_cells // max(n, 1))
    for c0 in range(0, times.size, step):
        c1 = min(c0 + step, times.size)
        width = hi[c0:c1] - lo[c0:c1]
        row = np.repeat(np.arange(c1 - c0), width)
        first = np.cumsum(width) - width
        neighbour = np.arange(width.sum()) - np.repeat(first, width) + np.repeat(lo[c0:c1], width)
        hit = np.zeros((c1 - c0) * n, dtype=bool)
        hit[row * n + owner[neighbour]] = True  # each (spike, neuron) counted once
        r, b = np.divmod(np.flatnonzero(hit), n)
        near += np.bincount(owner[c0 + r] * n + b, minlength=n * n)
    return near.reshape(n, n).astype(np.float64)


def _sttc_half(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    denom = 1.0 - p * t
    return np.where(denom == 0.0, 1.0, (p - t) / np.where(denom == 0.0, 1.0, denom))


def precision_matrix(
    spike_trains: Sequence[np.ndarray],
    *,
    bin_size: float = BIN_SIZE,
    t_stop: float | None = None,
    alpha: float | None = None,
) -> np.ndarray:
    """Sparse inverse covariance (graphical lasso) of binned spike counts.

    Maximizes ``log det Θ - tr(S Θ) - α ||Θ||_1,off`` over precision matrices ``Θ``, with ``S``
    the covariance of ``bin_spikes(...)`` (bins as samples). ``alpha=None`` selects α by
    cross-validation with ``sklearn.covariance.GraphicalLassoCV()`` at its defaults (the
    published convention); a number fits ``GraphicalLasso(alpha)``. Cross-validated α can
    differ between scikit-learn versions where two candidate α score within solver tolerance.

    Example::

        >>> rng = np.random.default_rng(0)
        >>> trains = [np.sort(rng.uniform(0, 60, 200)) for _ in range(4)]
        >>> theta = precision_matrix(trains, alpha=0.01)
        >>> theta.shape, bool(np.allclose(theta, theta.T))
        ((4, 4), True)
    """
    from sklearn.covariance import GraphicalLasso, GraphicalLassoCV  # heavy: import on use
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    counts = bin_spikes(spike_trains, bin_size=bin_size, t_stop=t_stop).T.astype(np.float64)
    if alpha is None:
        model = GraphicalLassoCV()
    else:
        if not (np.isfinite(alpha) and alpha >= 0):
            raise ValueError(f"alpha must be a non-negative number or None, got {alpha}")
        model = GraphicalLasso(alpha=float(alpha))
    # The fit is a long series of small (N x N) solves: BLAS threads only add overhead there,
    # and on a busy machine oversubscribed threads made it ~5x slower.
    with threadpool_limits(limits=1, user_api="blas"):
        model.fit(counts)
    return np.asarray(model.precision_, dtype=np.float64)
