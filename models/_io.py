"""Save / load trained models (pickle-free ``.npz``): re-exports of ``connectome_priors.models._result``, where the
file format is documented beside :class:`TrainResult` (one module, so there is no import cycle
between the result class and its reader)."""

from __future__ import annotations

from ._result import FORMAT, FORMAT_VERSION, TrainResult, load_result, save_result

__all__ = ["FORMAT", "FORMAT_VERSION", "TrainResult", "load_result", "save_result"]
