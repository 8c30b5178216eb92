"""The benchmark suite: the paper's ablation runner, its run store, reports, committed evidence,
sweeps across fields and the command table (``python -m connectome_priors <command>``)."""
