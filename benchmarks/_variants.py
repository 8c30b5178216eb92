"""The ablation's model variants: which recurrent init, which distance matrix, which penalty.

A variant's name spells its three factors in the paper's notation; the grammar (and the :class:`Variant` a name
spells) is :class:`connectome_priors.stats.Variant`, the one place variant names are read:

* ``W``  -- recurrent init: ``W`` orthogonal, ``W*`` functional (MICrONS, Eq. 7), ``W!`` the
  functional matrix with its nodes permuted (``P W* Pᵀ``, fresh ``P`` per seed);
* ``D``  -- spatial prior: ``D*`` real soma distances, ``D`` a regular 3-D grid, absent = none;
* ``C``  -- topology penalty: ``C`` communicability cost ``λ Σ|W|⊙D⊙C(W)``, ``C*`` wiring cost
  plus ``λ_EMD ·`` EMD between the distributions of ``C(W)`` and the empirical ``C_emp``
  (exactly the published composition), absent = plain wiring cost ``λ Σ|W|⊙D``
  (or ``λ Σ|W|`` with no ``D``).

This module is the ablation's catalogue of runnable variants: the eleven published ones in the paper's order
(:data:`VARIANTS`, from :data:`connectome_priors.stats.CANONICAL_VARIANTS`) and the controls added by
``--controls`` (:data:`CONTROLS`, from :data:`connectome_priors.stats.CONTROL_VARIANTS`), diagnostics that separate
the published functional init's two ingredients (its near-identity diagonal and its off-diagonal functional
structure) and test it against a distance-matched surrogate field::

    >>> [v.name for v in VARIANTS][:3]
    ['W*D*C', 'WD*C', 'WDC']
    >>> get_variant("W!D*C*")
    Variant(name='W!D*C*', init='permuted', distance='real', penalty='emd', control=False)
    >>> get_variant("Wdiag-D*C").init
    'diagonal_only'
"""

from __future__ import annotations

from connectome_priors.stats import CANONICAL_VARIANTS, CONTROL_VARIANTS, Variant

__all__ = ["CONTROLS", "CONTROL_DESCRIPTIONS", "FUNCTIONAL_MEASURES", "VARIANTS", "Variant", "get_variant",
           "parse_variants", "variant_names"]

FUNCTIONAL_MEASURES = {"corr": "corr*sttc", "precision": "precision*sttc", "sttc": "sttc"}

VARIANTS: tuple[Variant, ...] = tuple(Variant.from_name(name) for name in CANONICAL_VARIANTS)
CONTROLS: tuple[Variant, ...] = tuple(Variant.from_name(name) for name in CONTROL_VARIANTS)

CONTROL_DESCRIPTIONS = {
    "Wdiag-D*C": "init = only the diagonal of the functional W* (identity-like self-recurrence)",
    "W*nodiag-D*C": "init = functional W* with its diagonal zeroed (functional structure only)",
    "Wsurr-D*C": "init = functional W* of a distance-matched surrogate field (structure broken)",
    "Wdiagx-D*C": "init = only the diagonal of another seed's W* (the run's own lognormal draw not shared)",
    "Wid-D*C": "init = a scaled identity with W*'s mean self-weight (IRNN-like; no per-neuron self-weights)",
    "Wspec-D*C": "init = Q W* Qᵀ with a random orthogonal Q (W*'s spectrum, none of its structure)",
    "W-lam0": "orthogonal init, no penalty (λ = 0)",
    "W*-lam0": "functional init W*, no penalty (λ = 0)",
}


def variant_names(controls: bool = False) -> list[str]:
    """Names in canonical order (published eleven first, then the controls if asked).

    Args:
        controls: add the controls after the eleven.

    Returns:
        The names.

    Example::

        >>> len(variant_names()), variant_names(controls=True)[-1]
        (11, 'W*-lam0')
    """
    return [v.name for v in VARIANTS + (CONTROLS if controls else ())]


def get_variant(name: str) -> Variant:
    """Look a runnable variant up by name (one of the eleven or a control).

    Args:
        name: the variant's name.

    Returns:
        Its :class:`Variant`.

    Raises:
        ValueError: ``name`` is not a variant of the ablation; the message lists the valid ones.
    """
    for v in VARIANTS + CONTROLS:
        if v.name == name:
            return v
    raise ValueError(f"unknown variant {name!r}; valid: {variant_names(controls=True)}")


def parse_variants(spec: str | None, controls: bool = False) -> list[Variant]:
    """``"W*D*C,WD"`` -> variants (canonical order kept); ``None``/``"all"`` -> all of them.

    Args:
        spec: comma-separated names, ``"all"`` or ``None``.
        controls: with ``"all"``/``None``, add the controls.

    Returns:
        The variants, in canonical order.

    Raises:
        ValueError: ``spec`` names no variant or an unknown one.

    Example::

        >>> [v.name for v in parse_variants("WD, W*D*C")]
        ['W*D*C', 'WD']
    """
    if spec is None or spec == "all":
        return [get_variant(n) for n in variant_names(controls)]
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    if not wanted:
        raise ValueError(f"--variants {spec!r} names no variant")
    chosen = {get_variant(n).name for n in wanted}
    return [v for v in VARIANTS + CONTROLS if v.name in chosen]
