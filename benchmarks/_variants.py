"""The ablation's model variants: which recurrent init, which distance matrix, which penalty.

A variant name spells its three factors (the paper's notation):

* ``W``  -- recurrent init: ``W`` orthogonal, ``W*`` functional (MICrONS, Eq. 7), ``W!`` the
  functional matrix with its nodes permuted (``P W* Pᵀ``, fresh ``P`` per seed);
* ``D``  -- spatial prior: ``D*`` real soma distances, ``D`` a regular 3-D grid, absent = none;
* ``C``  -- topology penalty: ``C`` communicability cost ``λ Σ|W|⊙D⊙C(W)``, ``C*`` wiring cost
  plus ``λ_EMD ·`` EMD between the distributions of ``C(W)`` and the empirical ``C_emp``
  (exactly the published composition), absent = plain wiring cost ``λ Σ|W|⊙D``
  (or ``λ Σ|W|`` with no ``D``).

The eleven published variants, in the paper's order, are :data:`VARIANTS`. :data:`CONTROLS` are
diagnostics that separate the published functional init's two ingredients (its near-identity
diagonal and its off-diagonal functional structure) and test it against a distance-matched
surrogate field::

    >>> [v.name for v in VARIANTS][:3]
    ['W*D*C', 'WD*C', 'WDC']
    >>> get_variant("W!D*C*")
    Variant(name='W!D*C*', init='permuted', distance='real', penalty='emd', control=False)
"""

from __future__ import annotations

from dataclasses import dataclass

from connectome_priors.stats import CANONICAL_VARIANTS, parse_variant

INITS = ("orthogonal", "functional", "permuted", "diagonal_only", "functional_nodiag", "surrogate")
DISTANCES = ("real", "grid", None)
PENALTIES = ("comm", "emd", None)
FUNCTIONAL_MEASURES = {"corr": "corr*sttc", "precision": "precision*sttc", "sttc": "sttc"}
LAM = 0.3  # the paper's regularization strength λ
LAM_EMD = 0.1  # the paper's EMD strength λ_EMD


@dataclass(frozen=True)
class Variant:
    """One cell of the ablation design.

    ``init`` is one of :data:`INITS`; ``distance`` ``"real"``, ``"grid"`` or ``None``;
    ``penalty`` ``"comm"``, ``"emd"`` or ``None`` (wiring cost only, or L1 when ``distance`` is
    ``None`` too). ``control`` marks the diagnostic variants added by ``--controls``.
    """

    name: str
    init: str
    distance: str | None
    penalty: str | None
    control: bool = False

    def __post_init__(self) -> None:
        if self.init not in INITS:
            raise ValueError(f"Variant {self.name!r}: init={self.init!r} is not one of {INITS}")
        if self.distance not in DISTANCES:
            raise ValueError(f"Variant {self.name!r}: distance={self.distance!r} not in {DISTANCES}")
        if self.penalty not in PENALTIES:
            raise ValueError(f"Variant {self.name!r}: penalty={self.penalty!r} not in {PENALTIES}")
        if self.penalty is not None and self.distance is None:
            raise ValueError(f"Variant {self.name!r}: a {self.penalty!r} penalty needs a distance")

    @property
    def factors(self) -> dict[str, str]:
        """The three factor levels as the paper's statistics name them (w/w*/w!, d/d*/none, c/c*/none)."""
        w = {"orthogonal": "w", "functional": "w*", "permuted": "w!"}.get(self.init, self.init)
        d = {"real": "d*", "grid": "d", None: "none"}[self.distance]
        c = {"comm": "c", "emd": "c*", None: "none"}[self.penalty]
        return {"w_variant": w, "d_variant": d, "c_variant": c}


# factor level (as connectome_priors.stats.parse_variant spells it) -> how the runner builds it
_INIT = {"w": "orthogonal", "w*": "functional", "w!": "permuted"}
_DISTANCE = {"d*": "real", "d": "grid", "none": None}
_PENALTY = {"c": "comm", "c*": "emd", "none": None}


def _paper_variant(name: str) -> Variant:
    levels = parse_variant(name)
    return Variant(name, _INIT[levels["w_variant"]], _DISTANCE[levels["d_variant"]], _PENALTY[levels["c_variant"]])


# the eleven, from the one list of their names and order (connectome_priors.stats.CANONICAL_VARIANTS)
VARIANTS: tuple[Variant, ...] = tuple(_paper_variant(name) for name in CANONICAL_VARIANTS)

# Diagnostics (ASCII names so they survive CSV/netCDF round trips): the published W*D*C with its
# init replaced by (a) only the diagonal of W_bio, (b) W_bio with a zeroed diagonal, (c) W_bio
# built from a surrogate field that keeps the real positions and marginals but breaks the
# neuron-to-neuron structure.
CONTROLS: tuple[Variant, ...] = (
    Variant("Wdiag-D*C", "diagonal_only", "real", "comm", control=True),
    Variant("W*nodiag-D*C", "functional_nodiag", "real", "comm", control=True),
    Variant("Wsurr-D*C", "surrogate", "real", "comm", control=True),
)

CONTROL_DESCRIPTIONS = {
    "Wdiag-D*C": "init = only the diagonal of the functional W* (identity-like self-recurrence)",
    "W*nodiag-D*C": "init = functional W* with its diagonal zeroed (functional structure only)",
    "Wsurr-D*C": "init = functional W* of a distance-matched surrogate field (structure broken)",
}


def variant_names(controls: bool = False) -> list[str]:
    """Names in canonical order (published eleven first, then the controls if asked)."""
    return [v.name for v in VARIANTS + (CONTROLS if controls else ())]


def get_variant(name: str) -> Variant:
    """Look a variant up by name; unknown names raise with the list of valid ones."""
    for v in VARIANTS + CONTROLS:
        if v.name == name:
            return v
    raise ValueError(f"unknown variant {name!r}; valid: {variant_names(controls=True)}")


def parse_variants(spec: str | None, controls: bool = False) -> list[Variant]:
    """``"W*D*C,WD"`` -> variants (canonical order kept); ``None``/``"all"`` -> all of them."""
    if spec is None or spec == "all":
        return [get_variant(n) for n in variant_names(controls)]
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    if not wanted:
        raise ValueError(f"--variants {spec!r} names no variant")
    chosen = {get_variant(n).name for n in wanted}
    return [v for v in VARIANTS + CONTROLS if v.name in chosen]
