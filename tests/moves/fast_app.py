"""The real function app with the move's waits shrunk to seconds, for the dev-host end-to-end test."""

from shared.moves import launch as move_launch
from shared.moves.plan import MoveTiming
from shared.moves.preflight import arm_validation, validation_async
from shared.moves.preflight import validation as move_validation

move_launch.DEFAULT_TIMING = MoveTiming(
    min_poll_seconds=0,
    poll_fallback_seconds=1,
    approval_interval_seconds=1,
    approval_deadline_seconds=3,
    retry_first_ms=200,
    retry_attempts=3,
)
move_validation.ARM_POLL_SECONDS = 0.05
arm_validation.ARM_VALIDATE_BOUND_SECONDS = 2.0  # 45 s in the app
validation_async.DEFAULT_TIMING = validation_async.ValidationTiming(min_poll_seconds=1, max_poll_seconds=2)

from function_app import app  # noqa: E402  (after the patch: the app indexes the patched modules)

__all__ = ["app"]
