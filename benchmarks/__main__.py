"""``python -m connectome_priors <command>``: the project's benchmark commands.

* ``claim``    -- the main job: the paper's Go/NoGo claim tested at full protocol
(``connectome_priors.benchmarks._claim``).
* ``ablation`` -- the paper's ablation (11 variants x 3 tasks x seeds) with report; resumable.
* ``report``   -- (re)write the report of an ablation folder from its stored runs.
* ``compare``  -- several ablation folders (compat / default / controls, both arms) side by side.
* ``perf``     -- time one training step (``connectome_priors.benchmarks._perf``).
* ``sweep``    -- the ablation over many fields, locally or on Ray (``connectome_priors.benchmarks.sweep._cli``).
* ``evidence`` -- committed run records -> docs/results and docs/reproduction.md, byte for byte
(``connectome_priors.benchmarks.evidence._cli``).

A command is one row of :data:`COMMANDS`: its ``module:function`` (``function(argv) -> exit status``, imported only
when the command runs) and its one-line help. The parsers live with the commands (``connectome_priors.benchmarks._cli``
and the
command modules). Example::

    python -m connectome_priors ablation --quick --out results/quick
    python -m connectome_priors ablation --reference-compat --sign nonneg --seeds 3 --out results/compat-nonneg
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# name -> (module:function taking argv and returning the exit status, one-line help)
_B = "connectome_priors.benchmarks"
COMMANDS: dict[str, tuple[str, str]] = {
    "claim": (f"{_B}._claim:main",
              "the main job: the paper's Go/NoGo claim (W*D*C vs W vs diagonal-only) at full protocol, with a verdict"),
    "ablation": (f"{_B}._cli:ablation_main",
                 "the paper's ablation: 11 variants x 3 tasks x seeds, with report (resumable)"),
    "report": (f"{_B}._cli:report_main",
               "rewrite the report (netCDF, CSVs, figures, report.md) of an ablation folder"),
    "compare": (f"{_B}._cli:compare_main",
                "one table of several ablation folders side by side (e.g. compat vs default vs controls)"),
    "perf": (f"{_B}._perf:main", "time one training step (plain / communicability, single / vmapped seeds)"),
    "sweep": (f"{_B}.sweep._cli:main", "the ablation across fields, local or on Ray (resumable)"),
    "evidence": (f"{_B}.evidence._cli:main", "export run stores as committed records; rebuild docs/results and "
                                             "docs/reproduction.md from them (export | rebuild | check | import)"),
}
# commands that compile with XLA: their compilations persist across runs
# (connectome_priors.benchmarks._cli.enable_compilation_cache)
COMPILING = ("ablation", "sweep", "claim")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m connectome_priors {" + ",".join(COMMANDS) + "} [options]\n")
        for name, (_, text) in COMMANDS.items():
            print(f"  {name:10s} {text}")
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"unknown command {command!r}; choose one of {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    if command in COMPILING:
        from ._cli import enable_compilation_cache

        enable_compilation_cache()
    module, function = COMMANDS[command][0].split(":")
    return int(getattr(importlib.import_module(module), function)(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
