"""`aml-lifecycle names check` against `GET /api/names/{subscriptionId}/{resourceGroup}/{name}` (contract:
`{"status": inUse|softDeleted|purgeRequested|free|unknown, "blockedUntil"?, "deletedBy"?, "deletedAt"?,
"evidence": [...], "options": [...]}`): exit 0 when free, 1 when blocked, 3 when the app cannot tell."""

from __future__ import annotations

from tests.conftest import SUB_DEV, SUB_PROD, ws_id


def test_a_live_name_is_in_use_and_an_unused_one_is_free(aml):
    taken = aml("names", "check", ws_id("ws-quiet"), "-o", "json")
    assert taken.code == 1, taken.err
    assert taken.json()["status"] == "inUse"
    free = aml("names", "check", f"{SUB_DEV}/rg-ml-dev/ws-never-used")
    assert free.code == 0 and "free" in free.out


def test_a_soft_deleted_name_says_until_when_and_what_to_do(aml):
    # The seeded scenario holds ws-twin soft-deleted in rg-ml-prod (deleted 2026-11-20, 14 days).
    held = aml("names", "check", f"{SUB_PROD}/rg-ml-prod/ws-twin", "-o", "json")
    assert held.code == 1, held.err
    body = held.json()
    assert body["status"] in ("softDeleted", "purgeRequested") and body["blockedUntil"].endswith("Z")
    assert body["options"]
    table = aml("names", "check", f"{SUB_PROD}/rg-ml-prod/ws-twin")
    assert "softDeleted" in table.out or "purgeRequested" in table.out
    assert aml("names", "check", f"{SUB_PROD}/rg-ml-prod/ws-twin", "--query", "blockedUntil", "-o", "tsv").out.strip()
