"""Timer triggers: NCRONTAB (6 fields, seconds first) or TimeSpan schedules, run-on-startup, TimerRequest objects."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Callable
from zoneinfo import ZoneInfo

from azure.functions.timer import TimerRequest
from croniter import croniter

from local.devhost.app_loader import IndexedFunction
from local.devhost.settings import resolve_app_setting

log = logging.getLogger("devhost.timers")
PAST_DUE_AFTER = timedelta(seconds=1)
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")


def host_timezone() -> tzinfo:
    """UTC unless WEBSITE_TIME_ZONE (IANA name on Linux) says otherwise, as on Azure."""
    name = os.environ.get("WEBSITE_TIME_ZONE") or os.environ.get("TZ_FUNCTIONS")
    return ZoneInfo(name) if name else timezone.utc


class Schedule:
    """An NCRONTAB expression `{second} {minute} {hour} {day} {month} {day-of-week}` or a TimeSpan `hh:mm:ss`."""

    def __init__(self, expression: str, tz: tzinfo | None = None) -> None:
        self.expression = expression.strip()
        self.tz = tz or host_timezone()
        span = _TIMESPAN.match(self.expression)
        self.interval = None
        if span:
            days, hours, minutes, seconds = (int(x or 0) for x in span.groups())
            self.interval = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
            if self.interval <= timedelta(0):
                raise ValueError(f"timer interval {expression!r} must be positive")
            return
        fields = self.expression.split()
        if len(fields) != 6:
            raise ValueError(f"NCRONTAB {expression!r} needs 6 fields: second minute hour day month day-of-week")
        if not croniter.is_valid(self.expression, second_at_beginning=True):
            raise ValueError(f"invalid NCRONTAB expression {expression!r}")

    def next_after(self, moment: datetime) -> datetime:
        if self.interval is not None:
            return moment + self.interval
        local = moment.astimezone(self.tz)
        return croniter(self.expression, local, ret_type=datetime, second_at_beginning=True).get_next(datetime)


def timer_request(scheduled: datetime, now: datetime, last: datetime | None, following: datetime) -> TimerRequest:
    status = {"Last": (last or datetime.min.replace(tzinfo=timezone.utc)).isoformat(), "Next": following.isoformat(),
              "LastUpdated": now.isoformat()}
    return TimerRequest(past_due=now - scheduled > PAST_DUE_AFTER, schedule_status=status,
                             schedule={"AdjustForDST": True})


class TimerScheduler:
    """One loop per timer function; executions of one function never overlap (like the host's singleton lock)."""

    def __init__(self, functions: list[IndexedFunction], call: Callable, clock: Callable[[], datetime] | None = None):
        self.functions, self.call = functions, call
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._tasks: list[asyncio.Task] = []
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, datetime] = {}
        self.schedules: dict[str, Schedule] = {}

    def start(self) -> None:
        for function in self.functions:
            if os.environ.get(f"AzureWebJobs.{function.name}.Disabled", "").lower() in ("1", "true"):
                log.info("timer %s is disabled by app setting", function.name)
                continue
            schedule = Schedule(resolve_app_setting(function.trigger["schedule"]))
            self.schedules[function.name] = schedule
            self._locks[function.name] = asyncio.Lock()
            self._tasks.append(asyncio.create_task(self._loop(function, schedule)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def run_now(self, function: IndexedFunction) -> None:
        """Invoke once now (the admin endpoint), with a TimerRequest that is not past due."""
        now = self.clock()
        schedule = self.schedules.get(function.name) or Schedule(resolve_app_setting(function.trigger["schedule"]))
        await self._invoke(function, now, schedule.next_after(now))

    async def _loop(self, function: IndexedFunction, schedule: Schedule) -> None:
        if function.trigger.get("runOnStartup"):
            now = self.clock()
            await self._invoke(function, now, schedule.next_after(now))
        due = schedule.next_after(self.clock())
        while True:
            await asyncio.sleep(max(0.0, (due - self.clock()).total_seconds()))
            following = schedule.next_after(max(due, self.clock()))
            await self._invoke(function, due, following)
            due = following

    async def _invoke(self, function: IndexedFunction, scheduled: datetime, following: datetime) -> None:
        async with self._locks.setdefault(function.name, asyncio.Lock()):
            now = self.clock()
            request = timer_request(scheduled, now, self._last.get(function.name), following)
            self._last[function.name] = now
            try:
                await self.call(function, {function.trigger_arg: request})
                log.info("timer %s ran (next %s)", function.name, following.isoformat())
            except Exception:
                log.exception("timer %s failed", function.name)
