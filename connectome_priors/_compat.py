"""The reference-compatibility switch, described in one place.

Every prior in this library defaults to the corrected behaviour. ``reference_compat=True``
reproduces the published code (neurovium/CorticalBlueprintRNN) choice for choice, bugs
included, so the paper's tables can be regenerated. Objects record which mode made them
with :func:`compat_attrs`, so a result can never silently mix the two::

    >>> compat_attrs(True)
    {'reference_compat': 1}
"""

from __future__ import annotations

REFERENCE_REPO = "neurovium/CorticalBlueprintRNN"
REFERENCE_NOTEBOOK = "Model/CorticalBlueprintRNN.ipynb"


def compat_attrs(reference_compat: bool) -> dict[str, int]:
    """Metadata entry stamping which mode produced an object.

    Stored as 0/1 (not bool) because netCDF attributes cannot hold booleans.

    Example::

        >>> compat_attrs(False)
        {'reference_compat': 0}
    """
    if not isinstance(reference_compat, (bool, int)) or reference_compat not in (0, 1):
        raise TypeError(f"reference_compat must be True or False, got {reference_compat!r}")
    return {"reference_compat": int(bool(reference_compat))}
