"""JSON-lines logging for the dev host: each record as one object with the `extra` fields a log call passed.

The fields are what the Azure Monitor OpenTelemetry exporter turns into a trace's `customDimensions` (every
attribute of the LogRecord that the logging module does not set itself), so a line here reads like a row of the
`traces` table: `{"time", "level", "logger", "message", <custom dimensions>..., "exception"?}`.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# What logging.LogRecord sets itself (and what the formatter adds): everything else came in through `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record; non-JSON values are written as their str()."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(level: str, stream, log_format: str) -> None:
    """Root logging as the dev host's `--log-format` asks: `text` (default) or `json` (one object per line)."""
    handler = logging.StreamHandler(stream)
    if log_format == "json":
        handler.setFormatter(JsonLinesFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler])
