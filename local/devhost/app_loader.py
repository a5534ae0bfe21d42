"""Imports a Python v2-model app object and indexes its functions by trigger kind (the host's indexing step)."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger("devhost.loader")

HTTP, EVENT_GRID, TIMER = "httpTrigger", "eventGridTrigger", "timerTrigger"
ORCHESTRATION, ACTIVITY, ENTITY = "orchestrationTrigger", "activityTrigger", "entityTrigger"
DURABLE_CLIENT = "durableClient"


@dataclass
class IndexedFunction:
    """One function of the app: its name, trigger binding, other bindings and the callable the worker would call."""

    name: str
    trigger: dict
    bindings: list[dict]
    function: Callable[..., Any]

    @property
    def trigger_type(self) -> str:
        return self.trigger.get("type", "")

    @property
    def trigger_arg(self) -> str:
        return self.trigger.get("name", "")

    @property
    def durable_client_arg(self) -> str | None:
        return next((b["name"] for b in self.bindings if b.get("type") == DURABLE_CLIENT), None)

    @property
    def unsupported_bindings(self) -> list[dict]:
        """Input/output bindings besides the trigger, the HTTP return and the durable client (not served here)."""
        return [b for b in self.bindings if b is not self.trigger
                and b.get("type") not in (DURABLE_CLIENT,) and not (b.get("type") == "http" and b.get("direction") == "OUT")]


@dataclass
class FunctionIndex:
    """The app's functions grouped the way the host routes to them."""

    functions: dict[str, IndexedFunction] = field(default_factory=dict)
    orchestrators: dict[str, IndexedFunction] = field(default_factory=dict)
    activities: dict[str, IndexedFunction] = field(default_factory=dict)

    def of_type(self, trigger_type: str) -> list[IndexedFunction]:
        return [f for f in self.functions.values() if f.trigger_type == trigger_type]

    def get(self, name: str) -> IndexedFunction | None:
        """Look a function up by name, case-insensitively as the host does."""
        if name in self.functions:
            return self.functions[name]
        lowered = name.lower()
        return next((f for n, f in self.functions.items() if n.lower() == lowered), None)

    def summary(self) -> list[dict]:
        return [{"name": f.name, "trigger": f.trigger_type} for f in self.functions.values()]


def import_app(spec: str, app_dir: str | Path | None = None) -> Any:
    """Import `module:attribute` (default attribute `app`), with the app directory first on sys.path."""
    module_name, _, attribute = spec.partition(":")
    if app_dir is not None:
        path = str(Path(app_dir).resolve())
        if path not in sys.path:
            sys.path.insert(0, path)
    module = importlib.import_module(module_name)
    target: Any = module
    for part in (attribute or "app").split("."):
        target = getattr(target, part)
    return target


def index_app(app: Any) -> FunctionIndex:
    """Index an app object (df.DFApp / func.FunctionApp). Calls `app.get_functions()`, which works once per app."""
    index = FunctionIndex()
    for function in app.get_functions():
        bindings = [json.loads(raw) for raw in function.get_raw_bindings()]
        trigger = next((b for b in bindings if str(b.get("type", "")).endswith("Trigger")), None)
        name = function.get_function_name()
        if trigger is None:
            log.warning("function %s has no trigger binding; skipped", name)
            continue
        indexed = IndexedFunction(name, trigger, bindings, function.get_user_function())
        if name in index.functions:
            raise ValueError(f"two functions are named {name!r}")
        index.functions[name] = indexed
        if indexed.trigger_type == ORCHESTRATION:
            _register_aliases(index.orchestrators, indexed, trigger.get("orchestration"),
                              getattr(getattr(indexed.function, "orchestrator_function", None), "__name__", None))
        elif indexed.trigger_type == ACTIVITY:
            _register_aliases(index.activities, indexed, trigger.get("activity"),
                              getattr(indexed.function, "__name__", None))
        for binding in indexed.unsupported_bindings:
            log.warning("function %s: binding %s (%s) is not provided by the dev host", name,
                        binding.get("name"), binding.get("type"))
    # As the Functions host does at start-up: one line naming what the app registered.
    log.info("Found the following functions: %s",
             ", ".join(f"{f.name} ({f.trigger_type})" for f in index.functions.values()))
    return index


def _register_aliases(table: dict[str, IndexedFunction], function: IndexedFunction, *aliases: str | None) -> None:
    """Register under the function name, the trigger alias and the Python __name__ (what call_activity(fn) uses)."""
    for alias in (function.name, *aliases):
        if alias and alias not in table:
            table[alias] = function
