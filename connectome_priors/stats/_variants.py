"""The variant grammar: a variant's name spells its recurrent init, its distance prior and its penalty.

The one place where variant names are read (JAX-free). A name is three tokens, in this order:

* init (factor ``w_variant``): ``W`` orthogonal, ``W*`` functional (MICrONS, Eq. 7), ``W!`` the functional matrix
  with its nodes permuted; and the *control* inits ``Wdiag-`` (only the diagonal of ``W*``: an IRNN-like start with
  W*'s per-neuron self-weights), ``Wdiagx-`` (the same with another seed's diagonal draw), ``Wid-`` (a scaled
  identity with W*'s mean self-weight), ``Wspec-`` (``Q W* Qᵀ``, a random rotation with W*'s spectrum),
  ``W*nodiag-`` (``W*`` with its diagonal zeroed), ``Wsurr-`` (``W*`` of a distance-matched surrogate field);
* distance (factor ``d_variant``, optional): ``D*`` real soma distances, ``D`` a regular 3-D grid;
* penalty (factor ``c_variant``, optional): ``C`` communicability cost ``λ Σ|W|⊙D⊙C(W)``, ``C*`` wiring cost plus
  ``λ_EMD ·`` EMD to the empirical communicability; absent = wiring cost ``λ Σ|W|⊙D`` (or ``λ Σ|W|`` with no
  distance either); ``-lam0`` no penalty at all (λ = 0; a control, only without a distance). A penalty without a
  distance (``WC``) is a cell of the 3 x 3 x 3 design that the statistics
  can name, but not a variant the ablation runs (its penalties weigh by the distance).

The paper's eleven are :data:`CANONICAL_VARIANTS` (its order); :data:`CONTROL_VARIANTS` are the diagnostic controls
of the ablation (ASCII names, so they survive CSV/netCDF round trips). Only the three W/D/C inits are levels of the
factorial design (:func:`~connectome_priors.stats.parse_variant`); a control is left out of the factor tests.
"""

from __future__ import annotations

import dataclasses
import functools
import re

#: How the runner builds a variant's recurrent init, distance prior and penalty.
INITS: tuple[str, ...] = ("orthogonal", "functional", "permuted", "diagonal_only", "diagonal_other_seed",
                          "identity", "spectrum_matched", "functional_nodiag", "surrogate")
DISTANCES: tuple[str | None, ...] = ("real", "grid", None)
PENALTIES: tuple[str | None, ...] = ("comm", "emd", None, "zero")
#: The inits that are levels of the W/D/C design (the others are controls).
FACTORIAL_INITS: tuple[str, ...] = ("orthogonal", "functional", "permuted")

# the tokens of a name -> what they mean
_INIT_TOKENS: dict[str, str] = {"W": "orthogonal", "W*": "functional", "W!": "permuted", "Wdiag-": "diagonal_only",
                                "Wdiagx-": "diagonal_other_seed", "Wid-": "identity", "Wspec-": "spectrum_matched",
                                "W*nodiag-": "functional_nodiag", "Wsurr-": "surrogate"}
_DISTANCE_TOKENS: dict[str | None, str] = {"real": "D*", "grid": "D", None: ""}
_PENALTY_TOKENS: dict[str | None, str] = {"comm": "C", "emd": "C*", None: "", "zero": "-lam0"}
_INIT_OF = {init: token for token, init in _INIT_TOKENS.items()}
_DISTANCE_OF = {token: distance for distance, token in _DISTANCE_TOKENS.items()}
_PENALTY_OF = {token: penalty for penalty, token in _PENALTY_TOKENS.items()}
_PATTERN = re.compile(
    "^(" + "|".join(re.escape(t) for t in sorted(_INIT_TOKENS, key=len, reverse=True)) + r")(D\*?)?(C\*?|-lam0)?$")
NONE_LEVEL = "none"

#: The paper's eleven variants in its order.
CANONICAL_VARIANTS: tuple[str, ...] = (
    "W*D*C", "WD*C", "WDC", "WD*", "WD", "W", "W*D*C*", "WD*C*", "W*DC*", "W!D*C", "W!D*C*",
)
#: The ablation's controls, each one factor away from a published variant: W*D*C with its init replaced by (a) only
#: the diagonal of W* (IRNN-like), (b) W* with a zeroed diagonal, (c) W* of a surrogate field that keeps the real
#: positions and marginals but breaks the neuron-to-neuron structure, (d) the diagonal of another seed's W* (the
#: run's own lognormal draw no longer shared), (e) a scaled identity (no per-neuron self-weights), (f) a random
#: rotation of W* (its spectrum, none of its structure); and (g, h) W and W* trained without any penalty (λ = 0).
CONTROL_VARIANTS: tuple[str, ...] = ("Wdiag-D*C", "W*nodiag-D*C", "Wsurr-D*C", "Wdiagx-D*C", "Wid-D*C", "Wspec-D*C",
                                     "W-lam0", "W*-lam0")


def _spell(init: str, distance: str | None, penalty: str | None) -> str:
    return _INIT_OF[init] + _DISTANCE_TOKENS[distance] + _PENALTY_TOKENS[penalty]


@dataclasses.dataclass(frozen=True)
class Variant:
    """One variant of the ablation design: its name and what the name spells (see the module docstring).

    Build one from its name with :meth:`from_name`; the fields must spell the name.

    Attributes:
        name: the variant's name, e.g. ``"W*D*C"``.
        init: one of :data:`INITS`.
        distance: ``"real"``, ``"grid"`` or ``None``.
        penalty: ``"comm"``, ``"emd"`` or ``None`` (wiring cost only, or L1 when ``distance`` is ``None`` too).
        control: the init is a control (not a level of the W/D/C design); derived from ``init``.

    Raises:
        ValueError: a field outside its choices, or a name that the fields do not spell.

    Example::

        >>> from connectome_priors.stats import Variant
        >>> Variant.from_name("W!D*C*")
        Variant(name='W!D*C*', init='permuted', distance='real', penalty='emd', control=False)
        >>> Variant.from_name("Wdiag-D*C").factors
        {'w_variant': 'diagonal_only', 'd_variant': 'd*', 'c_variant': 'c'}
    """

    name: str
    init: str
    distance: str | None
    penalty: str | None
    control: bool = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        if self.init not in INITS:
            raise ValueError(f"Variant {self.name!r}: init={self.init!r} is not one of {INITS}")
        if self.distance not in DISTANCES:
            raise ValueError(f"Variant {self.name!r}: distance={self.distance!r} not in {DISTANCES}")
        if self.penalty not in PENALTIES:
            raise ValueError(f"Variant {self.name!r}: penalty={self.penalty!r} not in {PENALTIES}")
        spelled = _spell(self.init, self.distance, self.penalty)
        if spelled != self.name:
            raise ValueError(f"Variant {self.name!r}: init={self.init!r}, distance={self.distance!r}, "
                             f"penalty={self.penalty!r} spell {spelled!r}")
        if self.penalty == "zero" and self.distance is not None:
            raise ValueError(f"Variant {self.name!r}: no penalty (-lam0) leaves the distance unused; drop it")
        object.__setattr__(self, "control", self.init not in FACTORIAL_INITS or self.penalty == "zero")

    @classmethod
    def from_name(cls, name: str) -> Variant:
        """The variant a name spells.

        Args:
            name: a variant name of the grammar (module docstring), e.g. ``"WD*C*"`` or ``"Wsurr-D*C"``.

        Returns:
            The :class:`Variant`.

        Raises:
            ValueError: ``name`` is not a name of the grammar.

        Example::

            >>> Variant.from_name("WD").distance, Variant.from_name("W").penalty
            ('grid', None)
        """
        return _from_name(str(name))

    @property
    def factors(self) -> dict[str, str]:
        """The three factor levels as the paper's statistics name them (``w``/``w*``/``w!``, ``d``/``d*``/``none``,
        ``c``/``c*``/``none``); a control's ``w_variant`` is its init (``w``/``w*`` for the λ = 0 controls, whose
        ``c_variant`` is ``lam0``)."""
        w = self.init if self.init not in FACTORIAL_INITS else _INIT_OF[self.init].lower()
        if self.penalty == "zero":
            return {"w_variant": w, "d_variant": NONE_LEVEL, "c_variant": "lam0"}
        d = _DISTANCE_TOKENS[self.distance].lower() or NONE_LEVEL
        c = _PENALTY_TOKENS[self.penalty].lower() or NONE_LEVEL
        return {"w_variant": w, "d_variant": d, "c_variant": c}


@functools.lru_cache(maxsize=256)
def _from_name(name: str) -> Variant:  # names repeat once per row of a tidy frame: parse each once
    match = _PATTERN.match(name)
    if match is None:
        raise ValueError(
            f"variant {name!r} is not a variant name: expected an init W, W* or W! (or a control init "
            "Wdiag-, Wdiagx-, Wid-, Wspec-, W*nodiag-, Wsurr-), then optionally D or D*, then optionally C or C* "
            "(e.g. 'W*D*C'), or -lam0 (no penalty) without a distance (e.g. 'W*-lam0')")
    w, d, c = match.groups()
    return Variant(name, _INIT_TOKENS[w], _DISTANCE_OF[d or ""], _PENALTY_OF[c or ""])


def is_factorial(name: str) -> bool:
    """Whether ``name`` is a variant of the W/D/C design (a grammar name whose init is not a control).

    Args:
        name: any name.

    Returns:
        True for e.g. ``"WD*C"``, False for a control (``"Wdiag-D*C"``) or a name outside the grammar.
    """
    try:
        return not Variant.from_name(name).control
    except ValueError:
        return False
