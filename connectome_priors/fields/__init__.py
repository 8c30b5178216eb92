"""MICrONS fields: the registry, verified download, cache, embedded fields, loading, CAVE, and
functional similarity from spike trains (JAX-free)."""

from ._cave import from_cave
from ._download import cache_dir, check_field, fetch_field_files, list_fields
from ._errors import FieldDataError
from ._load import load_field, load_spikes
from ._registry import field_ids
from ._similarity import bin_spikes, binned_correlation, precision_matrix, sttc_matrix

__all__ = [
    "FieldDataError", "bin_spikes", "binned_correlation", "cache_dir", "check_field", "fetch_field_files", "field_ids",
    "from_cave", "list_fields", "load_field", "load_spikes", "precision_matrix", "sttc_matrix",
]
