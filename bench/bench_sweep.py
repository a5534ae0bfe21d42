"""Retention sweep with ~3,400 and ~102,700 ledger rows and the same 100 rows due: the median of 5 sweeps per size
once the seeding has settled. The sweep's own work (this process's CPU time; the time with no storage request in
flight, counted at the HTTP transport, beside it) against the wall time and the emulator's own scaling (storage wait
per request, a raw Table query of the same partitions in the same run); goal: the own work <= 1.5x for the 30x
larger ledger. Storage requests per due row (goal <= 5) and where they go, and the ARM reads (workspace GETs of the
reconciliation): O(rows due + the daily share of soft-deleted rows), whatever the ledger's size. ARM is a counting
stand-in (every GET answers 404): the bench measures the app's work. Exits 1 when a goal is missed."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DUE_SUBSCRIPTION = "11111111-1111-4111-8111-111111111111"
BATCH = 100  # Table Storage: at most 100 operations per transaction, one partition each


def subscription(i: int) -> str:
    return f"{i:08x}-0000-4000-8000-000000000000"


def seed_closed_rows(ledger_table, start: int, count: int, now: datetime) -> None:
    """`count` closed (Expired) rows, 100 per subscription partition, by batch transaction."""
    for first in range(start, start + count, BATCH):
        sub = subscription(first // BATCH)
        operations = []
        for i in range(first, min(first + BATCH, start + count)):
            deleted = now - timedelta(days=30 + i % 300)
            operations.append(("upsert", {
                "PartitionKey": sub, "RowKey": f"rg-old|ws-{i:06d}", "State": "Expired",
                "WorkspaceId": f"/subscriptions/{sub}/resourceGroups/rg-old/providers/"
                               f"Microsoft.MachineLearningServices/workspaces/ws-{i:06d}",
                "DeletedAt": deleted, "PurgeAfter": deleted + timedelta(days=14), "RetentionDays": 14,
                "DeletedBy": "someone@contoso.com", "LastEventTime": deleted, "LastEventId": f"e-{i}",
                "AlertsSent": "deleted,7,3,1,expired",
            }))
        ledger_table.submit_transaction(operations)


def seed_due_rows(clients, settings, tag: str, count: int, now: datetime) -> None:
    """`count` soft-deleted rows whose 3-day threshold is due now, written as the event handler writes them."""
    from shared.azure import tables
    from shared.retention.ledger import LedgerRow, LedgerState, RetentionLedger
    from shared.retention.schedule import RetentionSchedule, plan

    ledger = RetentionLedger(tables.table(clients.tables(), tables.RETENTION))
    schedule = RetentionSchedule(tables.table(clients.tables(), tables.SCHEDULE))
    sub = DUE_SUBSCRIPTION
    deleted = now - timedelta(days=11, minutes=5)
    for i in range(count):
        name = f"ws-{tag}-{i:03d}"
        row = LedgerRow(sub, "rg-due", name, f"/subscriptions/{sub}/resourceGroups/rg-due/providers/"
                        f"Microsoft.MachineLearningServices/workspaces/{name}", LedgerState.SOFT_DELETED, deleted,
                        deleted + timedelta(days=14), 14, deleted_by="due@contoso.com", last_event_time=deleted,
                        last_event_id=f"e-{name}", alerts_sent=("deleted", "7"))
        # what earlier sweeps left: the entries of alerts not yet sent (3 days, 1 day, expiry)
        schedule.add([e for e in plan(row, settings.alert_days, now=deleted) if e.token not in row.alerts_sent])
        ledger.update(*row.key, lambda current, row=row: row)


def seed_soft_deleted_rows(clients, count: int, now: datetime) -> None:
    """`count` soft-deleted rows with no alert due, each enrolled for its daily ARM check (its own hour of the day)."""
    from collections import defaultdict

    from shared.azure import tables
    from shared.retention.reconcile_index import next_daily
    from shared.retention.schedule import bucket

    ledger_table = tables.table(clients.tables(), tables.RETENTION)
    index_table = tables.table(clients.tables(), tables.RECONCILE)
    sub = subscription(999_999)
    by_bucket: dict[str, list[dict]] = defaultdict(list)
    deleted = now - timedelta(days=2)
    for first in range(0, count, BATCH):
        operations = []
        for i in range(first, min(first + BATCH, count)):
            key = (sub, f"rg-soft|ws-{i:06d}")
            operations.append(("upsert", {
                "PartitionKey": key[0], "RowKey": key[1], "State": "SoftDeleted",
                "WorkspaceId": f"/subscriptions/{sub}/resourceGroups/rg-soft/providers/"
                               f"Microsoft.MachineLearningServices/workspaces/ws-{i:06d}",
                "DeletedAt": deleted, "PurgeAfter": deleted + timedelta(days=14), "RetentionDays": 14,
                "AlertsSent": "deleted"}))
            due = next_daily(key, now - timedelta(minutes=31))  # filed by yesterday's check, in the row's own hour
            by_bucket[bucket(due)].append({"PartitionKey": bucket(due), "RowKey": "|".join(key),
                                           "LedgerPartitionKey": key[0], "LedgerRowKey": key[1], "DueAt": due})
        ledger_table.submit_transaction(operations)
    for entities in by_bucket.values():
        for first in range(0, len(entities), BATCH):
            index_table.submit_transaction([("upsert", e) for e in entities[first:first + BATCH]])


class Breakdown:
    """Counts the HTTP requests the azure-core transport sends to Azurite's table endpoint, by where they go: the
    table (read from the URL, or from a batch transaction's body), the verb, and the sweep's phase (the
    reconciliation or an alert's claim/publish/record)."""

    CATEGORIES = ("ledger reads", "ledger writes (reconcile)", "alert bookkeeping (claim, sent)", "inventory reads",
                  "schedule reads", "schedule writes", "outbox", "reconcile index", "watermark/control")

    def __init__(self, netloc: str) -> None:
        import threading
        from collections import Counter

        from azure.core.pipeline.transport import RequestsTransport

        from shared.retention import notices, reconcile, sweep

        self.netloc, self.count, self.by = netloc, 0, Counter()
        self.phase = "sweep"
        self._lock = threading.Lock()
        # Storage wait: the time at least one request to Azurite is in flight (the union, requests may overlap).
        self.in_flight, self.busy_since, self.busy = 0, 0.0, 0.0
        original = RequestsTransport.send

        def send(transport, request, **kwargs):
            if f"//{self.netloc}/" not in request.url:
                return original(transport, request, **kwargs)
            category = self.classify(request)
            with self._lock:
                self.count += 1
                self.by[category] += 1
                self.in_flight += 1
                if self.in_flight == 1:
                    self.busy_since = time.perf_counter()
            try:
                return original(transport, request, **kwargs)
            finally:
                with self._lock:
                    self.in_flight -= 1
                    if self.in_flight == 0:
                        self.busy += time.perf_counter() - self.busy_since

        RequestsTransport.send = send

        def phased(name, function):
            def run(*args, **kwargs):
                before, self.phase = self.phase, name
                try:
                    return function(*args, **kwargs)
                finally:
                    self.phase = before
            return run

        reconcile.Reconciler.run = phased("reconcile", reconcile.Reconciler.run)
        sweep.deliver = phased("alert", notices.deliver)  # the sweep's own reference

    def classify(self, request) -> str:
        from urllib.parse import unquote

        from shared.azure import tables

        text = unquote(request.url)
        if "$batch" in text:
            body = request.body if isinstance(request.body, (bytes, str)) else b""
            text = unquote(body.decode("utf-8", "replace") if isinstance(body, bytes) else body)
        path = text.split("//", 1)[-1]
        table = next((t for t in (tables.RETENTION, tables.INVENTORY, tables.SCHEDULE, tables.RECONCILE)
                      if f"/{t}(" in path or f"/{t}?" in path or f"/{t} " in path or path.endswith(f"/{t}")), "other")
        read = request.method == "GET"
        if table == tables.RETENTION:
            if read:
                return "ledger reads"
            return "alert bookkeeping (claim, sent)" if self.phase == "alert" else "ledger writes (reconcile)"
        if table == tables.INVENTORY:
            return "inventory reads"
        if table == tables.RECONCILE:
            return "reconcile index"
        if table == tables.SCHEDULE:
            if "~outbox" in text:
                return "outbox"
            if "~control" in text:
                return "watermark/control"
            return "schedule reads" if read else "schedule writes"
        return "other"

    def snapshot(self):
        with self._lock:
            return self.count, dict(self.by), self.busy


class CountingArm:
    """Stands in for ARM's workspace GET: counts the calls and answers 404 (still soft-deleted)."""

    def __init__(self) -> None:
        import threading

        self.reads = 0
        self._lock = threading.Lock()

    def __call__(self, _workspace_id: str):
        from shared.retention.arm_probe import ABSENT, ProbeResult

        with self._lock:
            self.reads += 1
        return ProbeResult(ABSENT, detail="404 Not Found")


def timed_sweep(clients, settings, now: datetime, counter=None, arm: CountingArm | None = None):
    """(seconds, alerts sent, storage requests, requests by category, seconds with no storage request in flight, CPU
    seconds of this process: the app's own work, whatever the emulator does meanwhile) of one sweep at `now`; `arm`
    counts its workspace GETs."""
    from shared.retention.sweep import RetentionSweep

    before, by_before, busy_before = counter.snapshot() if counter else (0, {}, 0.0)
    started, cpu = time.perf_counter(), time.process_time()
    report = RetentionSweep(clients, settings, probe=arm or CountingArm()).run(now)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if counter is None:
        return seconds, len(report.sent), 0, {}, seconds, cpu
    after, by_after, busy_after = counter.snapshot()
    return (seconds, len(report.sent), after - before, {k: v - by_before.get(k, 0) for k, v in by_after.items()},
            seconds - (busy_after - busy_before), cpu)


def raw_query(connection_string: str, now: datetime) -> float:
    """Seconds of a bare SDK read of the partitions the sweep reads at `now` (the due schedule buckets and the outbox,
    the reconcile index up to now, the ledger partition of the due rows): how the emulator itself scales."""
    from azure.data.tables import TableServiceClient

    from shared.azure import tables
    from shared.retention.schedule import bucket

    service = TableServiceClient.from_connection_string(connection_string)
    started = time.perf_counter()
    schedule = service.get_table_client(tables.SCHEDULE)
    list(schedule.query_entities("PartitionKey ge @low and PartitionKey le @high",
                                 parameters={"low": bucket(now - timedelta(hours=2)), "high": bucket(now)}))
    list(schedule.query_entities("PartitionKey eq @p", parameters={"p": "~outbox"}))
    list(service.get_table_client(tables.RECONCILE).query_entities(
        "PartitionKey ge @low and PartitionKey le @high", parameters={"low": "0000000000", "high": bucket(now)}))
    list(service.get_table_client(tables.RETENTION).query_entities(
        "PartitionKey eq @p", parameters={"p": DUE_SUBSCRIPTION}))
    return time.perf_counter() - started


def timed_sweeps(clients, settings, tag: str, due: int, first: datetime, counter, arm: CountingArm,
                 connection_string: str) -> tuple[list, list[float]]:
    """SWEEPS sweeps an hour apart, each with `due` fresh rows due, after an untimed sweep has settled the store; and
    the raw query of the same partitions after each (seconds)."""
    timed_sweep(clients, settings, first - timedelta(minutes=30))  # settles Azurite after the bulk seeding
    runs, raws = [], []
    for hour in range(SWEEPS):
        at = first + timedelta(hours=hour)
        seed_due_rows(clients, settings, f"{tag}{hour}", due, at)
        raw_query(connection_string, at)  # untimed: the same warm-up the sweep's first read pays
        runs.append(timed_sweep(clients, settings, at, counter, arm))
        raws.append(raw_query(connection_string, at))
    return runs, raws


SWEEPS = 5  # per ledger size; the median is reported (single sweeps vary with the machine's load)
GOAL_REQUESTS = 5.0  # storage requests per due row, each size
GOAL_RATIO = 1.5  # sweep time, 30x larger ledger / smaller, same rows due


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--soft", type=int, default=2_400, help="soft-deleted rows with no alert due (daily checks)")
    args = parser.parse_args()

    from local.azurite import start_azurite

    # In memory: on disk Azurite re-serializes its whole database every 5 s, a stall that grows with the ledger and
    # that Table Storage does not have (the raw query below still shows the emulator's own per-request scaling).
    with start_azurite(in_memory=True) as azurite:
        os.environ.update({"AML_LIFECYCLE_TABLES": azurite.connection_string})
        for name in ("AML_LIFECYCLE_ALERTS_TOPIC_ENDPOINT", "AML_LIFECYCLE_ALERTS_TOPIC_KEY",
                     "AML_LIFECYCLE_DIGEST_HOUR_UTC"):
            os.environ.pop(name, None)  # alerts logged only: the bench measures the sweep's storage work
        from shared.azure import tables
        from shared.azure.clients import AzureClients
        from shared.settings import Settings

        counter = Breakdown(f"127.0.0.1:{azurite.ports['table']}")
        settings = Settings.from_env()
        clients = AzureClients(settings, credential=object())  # no ARM call is made
        ledger_table = tables.table(clients.tables(), tables.RETENTION)
        now = datetime.now(timezone.utc).replace(minute=30, second=0, microsecond=0)
        timed_sweep(clients, settings, now - timedelta(hours=2))  # warm-up; sets the watermark as an hourly sweep would

        seed_closed_rows(ledger_table, 0, args.small - 3 * args.due, now)
        seed_soft_deleted_rows(clients, args.soft, now)
        small_arm = CountingArm()
        small, small_raw = timed_sweeps(clients, settings, "a", args.due, now, counter, small_arm,
                                        azurite.connection_string)
        small_total = sum(1 for _ in ledger_table.list_entities(select=["PartitionKey"]))

        started = time.perf_counter()
        seed_closed_rows(ledger_table, args.small, args.large - args.small, now)
        seeding = time.perf_counter() - started
        large_arm = CountingArm()
        large, large_raw = timed_sweeps(clients, settings, "b", args.due, now + timedelta(hours=4), counter, large_arm,
                                        azurite.connection_string)
        total = sum(1 for _ in ledger_table.list_entities(select=["PartitionKey"]))

    missed = []

    def line(label: str, runs: list, raws: list[float]) -> tuple[float, float, float, float]:
        seconds = statistics.median(r[0] for r in runs)
        own = statistics.median(r[5] for r in runs)
        idle = statistics.median(r[4] for r in runs)
        raw = statistics.median(raws)
        requests = statistics.median(r[2] for r in runs)
        per_request = statistics.median((r[0] - r[4]) / max(1, r[2]) for r in runs)
        per_row = requests / args.due
        print(f"sweep, {label}, {args.due} due: median {seconds * 1000:8.1f} ms of {len(runs)} "
              f"({', '.join(f'{r[0] * 1000:.0f}' for r in runs)}); the app's own work {own * 1000:.0f} ms of CPU "
              f"({idle * 1000:.0f} ms with no storage request in flight); {runs[0][1]} alerts, {requests:.0f} storage "
              f"requests "
              f"({per_row:.2f} per due row; goal <= {GOAL_REQUESTS:g}), {per_request * 1000:.1f} ms of storage wait "
              f"each; raw query of the same partitions: median {raw * 1000:.1f} ms")
        for category in Breakdown.CATEGORIES + ("other",):
            count = statistics.mean(r[3].get(category, 0) for r in runs)
            if count:
                print(f"    {category:<34} {count:7.1f} requests  {count / args.due:5.2f} per due row")
        if per_row > GOAL_REQUESTS:
            missed.append(f"{per_row:.2f} storage requests per due row ({label}) > {GOAL_REQUESTS:g}")
        return seconds, raw, own, per_request

    print(f"seeded {args.large - args.small:,} more ledger rows in {seeding:.1f}s (batch transactions of {BATCH})")
    small_s, small_q, small_own, small_wait = line(f"{small_total:>7,} ledger rows", small, small_raw)
    large_s, large_q, large_own, large_wait = line(f"{total:>7,} ledger rows", large, large_raw)
    ratio, own_ratio = large_s / small_s, large_own / small_own
    print(f"ratio large / small (the ledger is {total / small_total:.0f}x larger): the sweep's own work (CPU) "
          f"{own_ratio:.2f} (goal <= {GOAL_RATIO:g}); wall time {ratio:.2f}, of which the emulator: storage wait per "
          f"request {large_wait / small_wait:.2f}, raw query of the same partitions {large_q / small_q:.2f}")
    if own_ratio > GOAL_RATIO:
        missed.append(f"the sweep's own time ratio {own_ratio:.2f} > {GOAL_RATIO:g}")
    share = args.soft / 24
    for rows, arm in ((small_total, small_arm), (total, large_arm)):
        reads = arm.reads / SWEEPS  # per sweep
        print(f"ARM reads per sweep, {rows:>7,} ledger rows ({args.soft:,} soft-deleted), {args.due} due: "
              f"{reads:6,.0f} GETs = {reads / args.due:.2f} x rows due (due + daily share of ~{share:.0f}: "
              f"{(args.due + share) / args.due:.2f} x; the whole ledger would be {rows / args.due:,.0f} x)")
    for goal in missed:
        print(f"GOAL MISSED: {goal}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
