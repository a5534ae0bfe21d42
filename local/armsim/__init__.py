"""Local Azure Resource Manager simulator: HTTPS fake of the ARM, ML, Authorization and Databricks APIs."""
