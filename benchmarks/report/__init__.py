"""The report of an ablation folder: stored runs -> netCDF, CSVs, figures and ``report.md``."""

from ._write import compare_reports, write_report

__all__ = ["compare_reports", "write_report"]
