"""The control initializers of the ablation: W*'s matrix taken apart, one ingredient at a time.

Each is a callable ``seed -> (N, N) float32`` (what :func:`connectome_priors.models.draw_w_rec` accepts) built on the
seed's functional matrix ``W*`` (:class:`connectome_priors.priors.MICrONSInit`, diagonal kept)::

    Wdiagx-  diag(W*_s')            the diagonal of another seed's W*, s' = derived_seed(s, "other-diagonal")
    Wid-     mean(diag W*_s) · I    a scaled identity (IRNN-like) with W*'s mean self-weight
    Wspec-   Q W*_s Qᵀ              Q Haar-random orthogonal (scipy.stats.ortho_group, seed derived from s):
                                    W*'s eigenvalues (so its spectral radius 0.95), none of its entries' structure

(``Wdiag-``, only the diagonal of the seed's own W* rescaled to spectral radius 0.95, is ``MICrONSInit(diagonal=
"only")``.) Input and output weights stay the run seed's, so each control differs from W*D*C in its recurrent start
only.

Example::

    >>> import numpy as np
    >>> from connectome_priors.priors import MICrONSInit, surrogate_field
    >>> base = MICrONSInit(surrogate_field(30, seed=0))
    >>> w = np.asarray(base.with_seed(3)((30, 30)))
    >>> q_w = SpectrumMatchedInit(base, 30)(3)
    >>> bool(np.allclose(np.sort_complex(np.linalg.eigvals(q_w)), np.sort_complex(np.linalg.eigvals(w)), atol=1e-4))
    True
    >>> ident = IdentityInit(base, 30)(3)
    >>> bool(np.allclose(ident, np.mean(np.diag(w)) * np.eye(30)))
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats

from connectome_priors.models._common import derived_seed

__all__ = ["IdentityInit", "OtherSeedDiagonalInit", "SpectrumMatchedInit"]


class _FromFunctional:
    """A control built from the seed's functional matrix W* (N, N) of ``base`` (an initializer with ``with_seed``)."""

    def __init__(self, base: Any, n_neurons: int):
        self.base, self.n_neurons = base, int(n_neurons)

    def functional(self, seed: int) -> np.ndarray:
        n = self.n_neurons
        return np.asarray(self.base.with_seed(int(seed))((n, n)), np.float64)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base!r}, n_neurons={self.n_neurons})"


class OtherSeedDiagonalInit(_FromFunctional):
    """``diag(W*_s')``: the self-weights of another seed's functional matrix (s' derived from s)."""

    def __call__(self, seed: int) -> np.ndarray:
        other = derived_seed(int(seed), "other-diagonal")
        return np.diag(np.diag(self.functional(other))).astype(np.float32)


class IdentityInit(_FromFunctional):
    """``mean(diag W*_s) · I``: a scaled identity (IRNN-like) with the seed's mean self-weight."""

    def __call__(self, seed: int) -> np.ndarray:
        w = self.functional(seed)
        return (np.mean(np.diag(w)) * np.eye(w.shape[0])).astype(np.float32)


class SpectrumMatchedInit(_FromFunctional):
    """``Q W*_s Qᵀ``, ``Q`` Haar-random orthogonal from a seed derived from s: W*'s spectrum, not its structure."""

    def __call__(self, seed: int) -> np.ndarray:
        w = self.functional(seed)
        q = scipy.stats.ortho_group.rvs(w.shape[0], random_state=derived_seed(int(seed), "spectrum-rotation"))
        return (q @ w @ q.T).astype(np.float32)
