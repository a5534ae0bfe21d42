"""The move preflight: the check rules (pure), the name and unsupported-feature checks, and validation (the report,
ARM's validateMoveResources within a bound, then durably, and removing a target group it created)."""
