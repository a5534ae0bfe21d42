"""tests/api: the schemathesis run reports how many cases it sent, per operation and status, in the terminal summary
(whatever the capture mode, -s or not)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest


@dataclass
class CaseTally:
    """Cases sent per operation label ("POST /moves") and per (label, status)."""

    per_operation: Counter = field(default_factory=Counter)
    per_status: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    move_ids: list[str] = field(default_factory=list)

    def add(self, label: str, status: int) -> None:
        self.per_operation[label] += 1
        self.per_status[(label, status)] += 1

    @property
    def total(self) -> int:
        return sum(self.per_operation.values())

    def lines(self) -> list[str]:
        lines = [f"schemathesis: {self.total} cases over {len(self.per_operation)} operations "
                 f"in {self.seconds:.1f}s "
                 "(the module: stack start, generated cases and the real-data checks)"]
        for label in sorted(self.per_operation):
            statuses = sorted((status, n) for (name, status), n in self.per_status.items() if name == label)
            lines.append(f"  {label}: {self.per_operation[label]} ("
                         + ", ".join(f"{status}x{n}" for status, n in statuses) + ")")
        return lines


TALLY = pytest.StashKey[CaseTally]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    tally = config.stash.get(TALLY, None)
    if tally is not None and tally.total:
        terminalreporter.section("API cases (schemathesis)")
        for line in tally.lines():
            terminalreporter.write_line(line)
