"""The one lazy-import mechanism of the package: a module-level ``__getattr__`` (PEP 562).

A package lists its public names and the module that defines each; the module is imported on the
first access of one of its names, so ``import connectome_priors`` stays cheap (no JAX, no
brainstate) and the data, graph-metric and statistics layer imports without JAX.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def attach(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package`` that import ``exports`` on first use.

    Args:
        package: the ``__name__`` of the package whose namespace this fills.
        exports: public name -> module that defines it, relative to ``package`` (``"._load"``) or
            absolute. A name that equals its module's last component (``"stats": ".stats"``) is
            the submodule itself.

    Returns:
        The three module attributes; assign them in the package's ``__init__``.

    Raises:
        AttributeError: from ``__getattr__``, for a name that is not exported.

    Example:
        >>> import types
        >>> mod = types.ModuleType("demo")
        >>> mod.__getattr__, mod.__dir__, mod.__all__ = attach("json", {"dumps": "json"})
        >>> mod.__getattr__("dumps")({"a": 1})
        '{"a": 1}'
    """
    names = dict(exports)

    def __getattr__(name: str) -> Any:
        target = names.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(target, package)
        value = module if target.rpartition(".")[2] == name else getattr(module, name)
        setattr(importlib.import_module(package), name, value)  # cache: later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__, sorted(names)
