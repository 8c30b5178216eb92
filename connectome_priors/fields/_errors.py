"""The one error type of the data layer: which field, which file, what is wrong."""

from __future__ import annotations


class FieldDataError(ValueError):
    """A MICrONS field could not be loaded: names the field, the file and the problem.

    Subclasses ``ValueError`` so generic input-validation handlers catch it too.

    Example::

        >>> err = FieldDataError("5_3_8", "corr_matrix.npy", "contains NaN")
        >>> str(err)
        "field '5_3_8', file 'corr_matrix.npy': contains NaN"
        >>> (err.field, err.file, err.problem)
        ('5_3_8', 'corr_matrix.npy', 'contains NaN')
    """

    def __init__(self, field: str, file: str | None, problem: str):
        self.field = field
        self.file = file
        self.problem = problem
        where = f"field {field!r}" + (f", file {file!r}" if file else "")
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):  # keep pickling (multiprocessing, ray) working with the 3-arg init
        return (type(self), (self.field, self.file, self.problem))
