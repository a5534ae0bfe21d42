"""The command's exit codes (documented in docs/client.md) and the one error type every command raises."""

from __future__ import annotations

OK = 0  # succeeded (a move Succeeded, a validation is ready, a read answered)
FAILED = 1  # the thing asked about failed: a move Failed, a validation not ready, the app unhealthy, a name taken
USAGE = 2  # bad flags or arguments, missing endpoint or credential, 401/403, 400 from the app (click uses 2 too)
NEEDS_ATTENTION = 3  # a move ended NeedsAttention: it moved, and something is left for a person
STILL_RUNNING = 4  # --wait gave up at --timeout; the operation goes on in the app
UNREACHABLE = 5  # the app could not be reached or answered 5xx / something that is not its API


class ClientError(Exception):
    """A failure told to a person: what happened and what to do next; never a key, token or stack trace."""

    def __init__(self, message: str, exit_code: int = FAILED, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.hint = hint
