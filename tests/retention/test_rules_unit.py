"""Pure rules: the most urgent alert after a miss, where schedule entries are filed, the event time parser."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.retention.events import Envelope
from shared.retention.ledger import LedgerRow, LedgerState
from shared.retention.schedule import bucket, plan
from shared.retention.sweep import most_urgent, pending
from tests.conftest import SUB_DEV, ws_id

T0 = datetime(2026, 3, 2, 10, 20, tzinfo=timezone.utc)


def row(**changes) -> LedgerRow:
    base = LedgerRow(SUB_DEV, "rg-ml-dev", "ws-quiet", ws_id("ws-quiet"), LedgerState.SOFT_DELETED, T0,
                     T0 + timedelta(days=14), 14)
    return LedgerRow(**{**base.__dict__, **changes})


def test_most_urgent_prefers_expiry_then_the_smallest_threshold_then_the_notice():
    assert most_urgent(["7", "3", "1", "deleted"]).token == "1"
    assert set(most_urgent(["7", "3", "1", "deleted"]).covers) == {"7", "3", "deleted"}
    chosen = most_urgent(["3", "expired"])
    assert (chosen.token, chosen.expire) == ("expired", True)
    assert most_urgent(["deleted"]).token == "deleted"


def test_pending_follows_the_ledger_row():
    assert pending(row(), "3", T0 + timedelta(days=12))
    assert not pending(row(alerts_sent=("3",)), "3", T0 + timedelta(days=12))
    assert not pending(row(state=LedgerState.RECOVERED), "3", T0 + timedelta(days=12))
    assert not pending(row(), "expired", T0 + timedelta(days=13))
    assert pending(row(), "expired", T0 + timedelta(days=14))
    assert pending(row(state=LedgerState.EXPIRED), "expired", T0 + timedelta(days=15))
    assert not pending(row(state=LedgerState.EXPIRED), "1", T0 + timedelta(days=15))


def test_an_episode_keeps_one_entry_its_next_alert_never_filed_into_an_hour_already_passed():
    late = T0 + timedelta(days=9)  # the delete event arrived 9 days late: the 7-day threshold is already due
    [entry] = plan(row(alerts_sent=("deleted",)), (7, 3, 1), now=late)
    assert (entry.token, entry.due_at, entry.bucket) == ("7", T0 + timedelta(days=7), bucket(late))
    assert entry.purge_after == T0 + timedelta(days=14)
    [entry] = plan(row(alerts_sent=("deleted", "7", "3")), (7, 3, 1), now=T0)
    assert (entry.token, entry.bucket) == ("1", bucket(T0 + timedelta(days=13)))
    [entry] = plan(row(), (7, 3, 1), now=T0)
    assert entry.token == "deleted"  # the notice the event handler could not send: the sweep retries it
    assert plan(row(alerts_sent=("deleted", "7", "3", "1", "expired")), (7, 3, 1), now=T0) == []
    assert plan(row(state=LedgerState.RECOVERED), (7, 3, 1), now=T0) == []


def test_event_times_with_seven_fraction_digits_and_offsets():
    assert Envelope.from_dict({"eventType": "x", "eventTime": "2018-07-19T19:24:12.7638810Z"}).time == datetime(
        2018, 7, 19, 19, 24, 12, 763881, tzinfo=timezone.utc)
    assert Envelope.from_dict({"type": "x", "time": "2018-07-19T21:24:12+02:00"}).time == datetime(
        2018, 7, 19, 19, 24, 12, tzinfo=timezone.utc)
