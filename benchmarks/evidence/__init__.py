"""Committed evidence: run stores -> compact records -> ``docs/results`` and ``docs/reproduction.md``,
rebuilt byte for byte."""

from ._build import check, rebuild
from ._cross_field import export_sweep, import_sweep
from ._records import ARMS, RecordsError, export_store, get_arm, import_records, read_records

__all__ = ["ARMS", "RecordsError", "check", "export_store", "export_sweep", "get_arm", "import_records", "import_sweep",
           "read_records", "rebuild"]
