"""The ``field`` argument of the priors: a Dataset from ``load_field`` or a field id, checked once."""

from __future__ import annotations

import os

import numpy as np
import xarray as xr


def as_field(field: xr.Dataset | str, data_dir: str | os.PathLike | None = None) -> xr.Dataset:
    """The field as a Dataset: an id is loaded with ``load_field``, a Dataset is checked and used as given.

    Args:
        field: a Dataset from :func:`connectome_priors.load_field` (or built like one) or a field id
            such as ``"6_6_2"``.
        data_dir: where the field lives, when ``field`` is an id.

    Returns:
        The Dataset.

    Raises:
        TypeError: ``field`` is neither a Dataset nor a string.
        ValueError: the Dataset labels two neurons with the same id (a selection that repeated a
            neuron): every prior is indexed by neuron, so a repeated id would silently duplicate rows.

    Example:
        >>> import connectome_priors as cp
        >>> ds = cp.load_field("5_3_8")
        >>> as_field(ds.isel(neuron=[0, 1, 1]))
        Traceback (most recent call last):
        ...
        ValueError: field 5_3_8: neuron ids repeat (1 duplicate, e.g. ...); select each neuron once
    """
    if isinstance(field, str):
        from connectome_priors.fields._load import load_field

        return load_field(field, data_dir=data_dir)
    if not isinstance(field, xr.Dataset):
        raise TypeError(f"field must be an xarray.Dataset from load_field or a field id string like '6_6_2', "
                        f"got {type(field).__name__}")
    if "neuron" in field.coords:
        ids = np.asarray(field["neuron"].values)
        unique, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            repeated = unique[counts > 1]
            raise ValueError(f"field {field.attrs.get('field', '<unnamed>')}: neuron ids repeat "
                             f"({int((counts - 1).sum())} duplicate, e.g. {repeated[0]!r}); select each neuron once")
    return field
