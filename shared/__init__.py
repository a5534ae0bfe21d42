"""Domain services and Azure gateways of aml-lifecycle, free of azure.functions."""
