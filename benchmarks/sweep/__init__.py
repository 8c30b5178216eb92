"""The ablation across fields: the plan, local and Ray backends, the driver, the cost model and the
cross-field analysis."""
