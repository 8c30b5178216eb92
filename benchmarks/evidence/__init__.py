"""Committed evidence: run stores -> compact records -> ``docs/results`` and ``docs/reproduction.md``,
rebuilt byte for byte."""

from ._build import check, rebuild
from ._records import ARMS, RecordsError, export_store, get_arm, import_records, read_records

__all__ = ["ARMS", "RecordsError", "check", "export_store", "get_arm", "import_records", "read_records", "rebuild"]
