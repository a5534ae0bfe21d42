"""A deletion period's SoftDeleted alert, claimed before it is published (the outbox in RetentionSchedule), so any
instance that gets a redelivery finds it taken and a crash leaves it to the sweep (docs/retention.md, "Alerts once")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.azure import alerts
from shared.retention.ledger import LedgerRow
from shared.retention.notices import alert_for
from shared.retention.rules import notice_key
from shared.retention.schedule import DELETED, RetentionSchedule, ScheduleEntry, bucket, outbox_entry


def release(schedule: RetentionSchedule, owed: list[LedgerRow], claims: dict[datetime, bool], published: set[str],
                now: datetime) -> None:
    """After a refused publish: hand each unsent alert's claim back (Event Grid's redelivery claims and sends it)
    and leave the sweep an entry in this hour's bucket in case no redelivery comes."""
    for row in owed:
        if claims.get(row.deleted_at) and notice_key(row) not in published:
            schedule.add([ScheduleEntry(*row.key, DELETED, row.deleted_at, row.purge_after, bucket(now))])
            schedule.remove(outbox_entry(row.key, row.deleted_at, row.purge_after, now=now))


def claim_and_publish(clients: Any, schedule: RetentionSchedule, owed: list[LedgerRow], entry: ScheduleEntry | None,
                      claims: dict[datetime, bool], published: set[str], now: datetime) -> bool:
    """Claim each owed alert's deletion period (its outbox entry, inserted), publish those won, and file the new
    episode's entry unless its claim already is it. All before the row: a crash leaves an outbox entry the sweep
    drains (the alert is never lost), and no redelivery can win a claim again (it is never sent twice).
    Adds each sent alert's key to `published`; True if a publish failed."""
    for row in owed:
        if row.deleted_at not in claims:
            claims[row.deleted_at] = schedule.claim(
                outbox_entry(row.key, row.deleted_at, row.purge_after, now=now))
    if entry is not None and entry.deleted_at not in claims:
        claims[entry.deleted_at] = False
        schedule.add([entry])  # a storage fault raises: nothing of the row is written yet
    for row in owed:
        if not claims[row.deleted_at] or notice_key(row) in published:
            continue
        event_type, data = alert_for(row, DELETED, now)
        try:
            alerts.publish_alert(clients, event_type, row.workspace_id, data,
                                 event_id=alerts.alert_id(*row.key, row.deleted_at.isoformat(), DELETED))
        except alerts.AlertPublishError:
            return True
        published.add(notice_key(row))
    return False
