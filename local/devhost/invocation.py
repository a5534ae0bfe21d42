"""Calls user functions the way the Python worker does: keyword arguments, async awaited, sync in a thread pool."""

from __future__ import annotations

import asyncio
import inspect
import threading
import uuid
from concurrent.futures import Executor
from typing import Any, Callable

import azure.functions as func
from azure.functions import _abc as func_abc


class _TraceContext(func_abc.TraceContext):
    def __init__(self) -> None:
        self._traceparent = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"

    @property
    def trace_state(self) -> str:
        return ""

    @property
    def trace_parent(self) -> str:
        return self._traceparent

    @property
    def attributes(self) -> dict:
        return {}


class _RetryContext(func_abc.RetryContext):
    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> Any:
        return None


class InvocationContext(func.Context):
    """A `func.Context` for one invocation (what the worker passes to a `context` parameter)."""

    def __init__(self, function_name: str, function_directory: str = "") -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory
        self._trace = _TraceContext()
        self._retry = _RetryContext()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> type[threading.local]:
        return threading.local  # type: ignore[return-value]

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> func_abc.TraceContext:
        return self._trace

    @property
    def retry_context(self) -> func_abc.RetryContext:
        return self._retry


def wants_context(function: Callable[..., Any], binding_names: set[str]) -> bool:
    """True if the function declares a `context` parameter that is not one of its bindings."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return "context" in parameters and "context" not in binding_names


def is_async(function: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(getattr(function, "__call__", None))


async def call_function(function: Callable[..., Any], kwargs: dict[str, Any], *, name: str,
                        binding_names: set[str], executor: Executor | None = None) -> Any:
    """Call a user function with keyword arguments; sync functions run in the executor, off the event loop."""
    kwargs = dict(kwargs)
    if wants_context(function, binding_names):
        kwargs["context"] = InvocationContext(name)
    if is_async(function):
        return await function(**kwargs)
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(executor, lambda: function(**kwargs))
    if inspect.isawaitable(result):
        result = await result
    return result
