"""The `aml-lifecycle` command: a client of the aml-lifecycle function app for people and pipelines."""
