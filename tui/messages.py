"""Results travel from workers to handlers as messages; `fetch` is the one place that
turns an error into a message (shown with `notify`), so no traceback reaches the screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.message import Message

from cpudb.errors import CpudbError

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from .source import DbThread


class Loaded(Message):
    """A worker's result; `what` says which request it answers."""

    def __init__(self, what: str, result: Any) -> None:
        super().__init__()
        self.what = what
        self.result = result


class Failed(Message):
    """A request failed: `text` is one line for the user (message and hint)."""

    def __init__(self, what: str, text: str) -> None:
        super().__init__()
        self.what = what
        self.text = text


def error_text(e: BaseException) -> str:
    if isinstance(e, CpudbError):
        return str(e)
    return f"{type(e).__name__}: {e}"


async def fetch(
    node: DOMNode, source: DbThread | None, what: str, fn: Callable[..., Any], *args: Any
) -> None:
    """Run `fn(db, *args)` in the database thread (or `fn(*args)` in a plain thread when
    `source` is None) and post `Loaded` or `Failed` to `node`."""
    import asyncio

    try:
        if source is None:
            result = await asyncio.to_thread(fn, *args)
        else:
            result = await source.call(fn, *args)
    except Exception as e:  # the interface's edge: every error becomes a message
        node.post_message(Failed(what, error_text(e)))
        return
    node.post_message(Loaded(what, result))
