"""Shared fixtures for the offline infrastructure checks: every Bicep file parsed once with pycep."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))


def body(block: dict[str, Any]) -> dict[str, Any]:
    """The properties of a resource/module block, unwrapping pycep's loop and condition layers."""
    config = block["config"]
    while isinstance(config, dict) and ("loop_type" in config or "condition" in config) and "config" in config:
        config = config["config"]
    return config


def walk(node: Any):
    """Every value in a parsed tree, depth first (dicts, lists and scalars)."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


@pytest.fixture(scope="session")
def bicep() -> dict[str, dict[str, Any]]:
    """Parsed Bicep, keyed by path relative to infra/ (e.g. 'main.bicep', 'app/storage.bicep')."""
    from pycep import BicepParser

    return {
        path.relative_to(INFRA).as_posix(): BicepParser().parse(text=path.read_text(encoding="utf-8"))
        for path in BICEP_FILES
    }


@pytest.fixture(scope="session")
def bicep_text() -> dict[str, str]:
    """Raw Bicep text (comments included), keyed like :func:`bicep`."""
    return {path.relative_to(INFRA).as_posix(): path.read_text(encoding="utf-8") for path in BICEP_FILES}
