"""Fixtures of the retention tests: Azurite-only table clients, the ledger, and event builders."""

from __future__ import annotations

from typing import Any, Iterator

import pytest


@pytest.fixture
def table_service(azurite: Any) -> Iterator[Any]:
    """A TableServiceClient on Azurite with the app's tables emptied (no simulator needed)."""
    from azure.data.tables import TableServiceClient

    from tests.conftest import _clear_tables

    _clear_tables(azurite.connection_string)
    yield TableServiceClient.from_connection_string(azurite.connection_string)


@pytest.fixture
def ledger(table_service: Any):
    from shared import tables
    from shared.retention_ledger import RetentionLedger

    return RetentionLedger(tables.table(table_service, tables.RETENTION))
