"""azure-core's RetryPolicy with every wait bounded: a Retry-After past the cap is not waited for (the caller gets the
429/503 and reports it), and all retries of one call end within an overall bound."""

from __future__ import annotations

from typing import Any

from azure.core.pipeline.policies import RetryPolicy

# The longest Retry-After the app waits for inside a request or an activity (docs/moves.md, "Bounded waits").
MAX_RETRY_AFTER_SECONDS = 30.0
# All attempts of one call, waits included (azure-core's `retry_timeout`, seconds).
RETRY_TIMEOUT_SECONDS = 60


class BoundedRetryPolicy(RetryPolicy):
    """Retries like azure-core (Retry-After honoured, exponential backoff on 5xx and timeouts), except that a
    Retry-After longer than `max_retry_after` ends the retries at once: the response goes back to the caller."""

    def __init__(self, *, max_retry_after: float = MAX_RETRY_AFTER_SECONDS, **kwargs: Any) -> None:
        kwargs.setdefault("retry_timeout", RETRY_TIMEOUT_SECONDS)
        super().__init__(**kwargs)
        self.max_retry_after = max_retry_after

    def configure_retries(self, options: dict[str, Any]) -> dict[str, Any]:
        """azure-core's per-call options, plus `retry_max_after` (seconds): a tighter cap for one call."""
        settings = super().configure_retries(options)
        settings["max_retry_after"] = options.pop("retry_max_after", self.max_retry_after)
        return settings

    def is_retry(self, settings: dict[str, Any], response: Any) -> bool:
        wait = self.get_retry_after(response)
        if wait is not None and wait > settings.get("max_retry_after", self.max_retry_after):
            return False
        return super().is_retry(settings, response)
