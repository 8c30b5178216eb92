"""``python -m connectome_priors <command>`` (also installed as ``connectome-priors``): the command
table of :mod:`connectome_priors.benchmarks.__main__`."""

from connectome_priors.benchmarks.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
