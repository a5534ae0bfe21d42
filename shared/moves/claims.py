"""One start per workspace: an atomic claim row in WorkspaceMoves, taken before the preflight, so concurrent starts
of the same move get a 409 naming the running one instead of racing (Table Storage insert / If-Match are atomic)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from shared.azure import tables
from shared.moves.plan import TERMINAL_STATES
from shared.moves.store import MovesStore, utcnow

ROW_PREFIX = "claim-"
# A claim whose move has no row yet (its preflight is running) is live this long; a crashed starter's claim expires.
PREFLIGHT_CLAIM_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class Claim:
    partition: str
    instance_id: str
    move_id: str
    etag: str


class ClaimTaken(Exception):
    """Another start of this workspace's move holds the claim; `move_id` is the running move."""

    def __init__(self, move_id: str) -> None:
        super().__init__(move_id)
        self.move_id = move_id


def acquire(clients, partition: str, instance_id: str, move_id: str, *, now: datetime | None = None) -> Claim:
    """Take the workspace's claim for `move_id`; ClaimTaken when a live move holds it. A claim is live while its move's
    row is not terminal, or, before the row exists, for PREFLIGHT_CLAIM_TTL; a stale claim is taken over under its
    ETag, so of two racing takeovers one wins."""
    now = now or utcnow()
    client = _table(clients)
    entity = {"PartitionKey": partition, "RowKey": ROW_PREFIX + instance_id, "MoveId": move_id, "ClaimedAt": now}
    try:
        meta = client.create_entity(entity)
        return Claim(partition, instance_id, move_id, _etag(meta))
    except ResourceExistsError:
        pass
    try:
        current = client.get_entity(partition, ROW_PREFIX + instance_id)
    except ResourceNotFoundError:  # released in between: try once more from the start
        meta = _create_or_taken(client, entity)
        return Claim(partition, instance_id, move_id, _etag(meta))
    if _live(clients, partition, current, now):
        raise ClaimTaken(current["MoveId"])
    try:
        meta = client.update_entity(entity, mode=UpdateMode.REPLACE, etag=current.metadata["etag"],
                                    match_condition=MatchConditions.IfNotModified)
    except (ResourceModifiedError, ResourceNotFoundError):
        raise ClaimTaken(current["MoveId"]) from None
    return Claim(partition, instance_id, move_id, _etag(meta))


def release(clients, claim: Claim) -> None:
    """Give the claim back (the start did not happen); a claim already taken over is left alone."""
    try:
        _table(clients).delete_entity(claim.partition, ROW_PREFIX + claim.instance_id, etag=claim.etag,
                                      match_condition=MatchConditions.IfNotModified)
    except (ResourceModifiedError, ResourceNotFoundError):
        pass


def _live(clients, partition: str, entity: dict, now: datetime) -> bool:
    record = MovesStore.of(clients).get(entity["MoveId"], partition=partition)
    if record is not None:
        return record.state not in TERMINAL_STATES
    claimed = entity.get("ClaimedAt")
    return isinstance(claimed, datetime) and now - claimed.astimezone(now.tzinfo) < PREFLIGHT_CLAIM_TTL


def _create_or_taken(client: TableClient, entity: dict) -> dict:
    try:
        return client.create_entity(entity)
    except ResourceExistsError:
        raise ClaimTaken(client.get_entity(entity["PartitionKey"], entity["RowKey"])["MoveId"]) from None


def _table(clients) -> TableClient:
    return tables.table(clients.tables(), tables.MOVES)


def _etag(meta: dict) -> str:
    return meta.get("etag") or ""
