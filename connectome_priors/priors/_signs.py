"""The sign vocabulary of recurrent weights ``W[pre, post]``, defined once (JAX-free).

One word means one thing wherever a sign is named: :class:`connectome_priors.MICrONSInit` (the sign
of the initial matrix), :class:`connectome_priors.models.RNNSpec` (the constraint kept through
training) and the ablation's ``--sign``:

* ``"free"``   -- no constraint: entries of either sign.
* ``"nonneg"`` -- every entry >= 0. An initializer draws a nonnegative matrix; the models project
  ``W <- max(W, 0)`` after every optimizer step (Keras' ``NonNeg`` constraint, the paper's).
* ``"dale"``   -- Dale's law: one sign per presynaptic neuron (row), see
  :mod:`connectome_priors.priors._dale` for which rows are excitatory and how E and I are balanced.

Example:
    >>> check_sign("nonneg")
    'nonneg'
    >>> check_sign("positive")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: sign='positive' is not one of ('free', 'nonneg', 'dale') (free: no constraint; ...)
"""

from __future__ import annotations

from collections.abc import Sequence

#: The sign modes, in the order they are listed in messages.
SIGNS: tuple[str, ...] = ("free", "nonneg", "dale")

_MEANING = {"free": "no constraint", "nonneg": "every entry >= 0", "dale": "one sign per presynaptic row"}


def check_sign(sign: object, allowed: Sequence[str] = SIGNS, *, name: str = "sign") -> str:
    """``sign`` itself when it is one of ``allowed``; else a ValueError that lists the choices and their meaning.

    Args:
        sign: the value to check (``None`` is not a sign: say ``"free"``).
        allowed: the modes this caller supports, a subset of :data:`SIGNS` (the ablation takes
            ``("free", "nonneg")``).
        name: how the caller's argument is called in the message (``"sign"``, ``"--sign"``).

    Returns:
        ``sign`` (a str).

    Raises:
        ValueError: ``sign`` is not in ``allowed``, or ``allowed`` names a mode that is not in :data:`SIGNS`.

    Example:
        >>> check_sign("dale", ("free", "nonneg"), name="--sign")
        Traceback (most recent call last):
        ...
        ValueError: --sign='dale' is not one of ('free', 'nonneg') (free: no constraint; nonneg: every entry >= 0)
    """
    allowed = tuple(allowed)
    unknown = [s for s in allowed if s not in SIGNS]
    if unknown:
        raise ValueError(f"allowed sign modes {unknown} are not in {SIGNS}")
    if not isinstance(sign, str) or sign not in allowed:
        meaning = "; ".join(f"{s}: {_MEANING[s]}" for s in allowed)
        raise ValueError(f"{name}={sign!r} is not one of {allowed} ({meaning})")
    return sign
