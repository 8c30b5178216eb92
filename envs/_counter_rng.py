"""Counter-based random numbers: every trial has its own key, every draw of a trial its own index.

Why not ``numpy.random.Generator``: a sequential generator makes trial ``i`` depend on how many trials
were drawn before it, and one generator per trial (``SeedSequence.spawn``) needs a Python loop over
trials. A counter-based generator is a pure function of ``(seed, trial index, draw index)``, so a batch
is built with array operations only and trial ``i`` is the same whatever the batch size.

Scheme (SplitMix64; Steele, Lea & Flood 2014, the generator Java's ``SplittableRandom`` uses)::

    mix(z)      = SplitMix64 finaliser (xor-shift-multiply, a bijection of uint64)
    base        = SeedSequence(seed).generate_state(1, uint64)[0]
    key[i]      = mix(base   + (i + 1) * GAMMA)       # trial i
    bits[i, j]  = mix(key[i] + (j + 1) * GAMMA)       # draw j of trial i
    uniform     = (bits >> 11) * 2**-53              # in [0, 1)

with GAMMA = 0x9E3779B97F4A7C15 (odd, golden ratio), arithmetic modulo 2**64. Normal draws use the
Box-Muller transform on pairs of uniforms.
"""

from __future__ import annotations

import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_TWO_POW_MINUS_53 = 2.0**-53


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser, elementwise on a uint64 array (wraps modulo 2**64 by design)."""
    z = (z ^ (z >> np.uint64(30))) * _MUL1
    z = (z ^ (z >> np.uint64(27))) * _MUL2
    return z ^ (z >> np.uint64(31))


def _counter(indices: np.ndarray) -> np.ndarray:
    """(index + 1) * GAMMA modulo 2**64 for non-negative integer indices."""
    return (np.asarray(indices, dtype=np.uint64) + np.uint64(1)) * _GAMMA


def seed_base(seed: int) -> np.uint64:
    """Hash a non-negative integer seed of any size into the 64-bit base of the trial keys.

    Args:
        seed: a non-negative integer.

    Returns:
        ``SeedSequence(seed).generate_state(1, uint64)[0]``.

    Raises:
        ValueError: a negative or non-integer seed.

    Example:
        >>> int(seed_base(0)) == int(seed_base(0)) and int(seed_base(0)) != int(seed_base(1))
        True
    """
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.SeedSequence(int(seed)).generate_state(1, np.uint64)[0]


def trial_keys(seed: int, trial_indices: np.ndarray) -> np.ndarray:
    """Keys of the given trials: ``key[i] = mix(base(seed) + (i + 1) * GAMMA)``.

    Args:
        seed: a non-negative integer.
        trial_indices: non-negative integer trial indices.

    Returns:
        [n] uint64 keys.

    Raises:
        ValueError: a bad seed or a negative or non-integer index.

    Example:
        >>> import numpy as np
        >>> k = trial_keys(7, np.arange(5))
        >>> bool(np.array_equal(k[3:], trial_keys(7, np.array([3, 4]))))
        True
    """
    indices = np.atleast_1d(np.asarray(trial_indices))
    if indices.size and (not np.issubdtype(indices.dtype, np.integer) or indices.min() < 0):
        raise ValueError("trial indices must be non-negative integers")
    return _mix(np.array(seed_base(seed), dtype=np.uint64) + _counter(indices))


def uniforms(keys: np.ndarray, first_draw: int, count: int) -> np.ndarray:
    """Uniform draws ``first_draw .. first_draw + count - 1`` of every key, shape [n, count], in [0, 1).

    Args:
        keys: [n] uint64 trial keys.
        first_draw: index of the first draw.
        count: number of draws per key.

    Returns:
        [n, count] float64 in [0, 1).

    Example:
        >>> import numpy as np
        >>> u = uniforms(trial_keys(0, np.arange(4)), 0, 3)
        >>> u.shape, bool(((u >= 0) & (u < 1)).all())
        ((4, 3), True)
    """
    keys = np.asarray(keys, dtype=np.uint64).reshape(-1, 1)
    bits = _mix(keys + _counter(np.arange(first_draw, first_draw + count))[None, :])
    return (bits >> np.uint64(11)).astype(np.float64) * _TWO_POW_MINUS_53


def normals(keys: np.ndarray, first_draw: int, count: int) -> np.ndarray:
    """Standard normal draws, shape [n, count], from uniforms ``first_draw ..`` (two per pair, Box-Muller).

    ``z1 = sqrt(-2 ln(1 - u1)) cos(2 pi u2)``, ``z2 = sqrt(-2 ln(1 - u1)) sin(2 pi u2)``.

    Args:
        keys: [n] uint64 trial keys.
        first_draw: index of the first uniform draw used.
        count: number of normal draws per key (uses ``2 * ceil(count / 2)`` uniforms).

    Returns:
        [n, count] float64 standard normal draws.

    Example:
        >>> import numpy as np
        >>> z = normals(trial_keys(0, np.arange(2000)), 0, 50)
        >>> bool(abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01)
        True
    """
    n_pairs = (count + 1) // 2
    u = uniforms(keys, first_draw, 2 * n_pairs)
    radius = np.sqrt(-2.0 * np.log1p(-u[:, :n_pairs]))  # 1 - u1 in (0, 1]: log is finite
    angle = 2.0 * np.pi * u[:, n_pairs:]
    z = np.concatenate([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return z[:, :count]
