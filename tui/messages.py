"""Results travel from workers to the screens as messages, one class per kind of answer.
`fetch` and `compute` are the one place that turns an error into a message (`Failed`,
shown in the screen and with `notify`), so no traceback reaches the screen."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from textual.message import Message

from cpudb.errors import CpudbError

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from cpudb.advise import Advice
    from cpudb.app.browse import ReleaseData
    from cpudb.describe import FeatureView
    from cpudb.diff import CpuDiff
    from cpudb.query import Db

    from .source import DbThread

T = TypeVar("T")


class Result(Message, Generic[T]):
    """A worker's answer. A newer answer of the same kind replaces an older one still
    queued (`can_replace`): a screen only shows the latest, e.g. the advice for the needs
    box as typed so far, not the one for a word ago."""

    def __init__(self, value: T) -> None:
        super().__init__()
        self.value = value

    def can_replace(self, message: Message) -> bool:
        return type(message) is type(self)


class ReleaseLoaded(Result["ReleaseData"]):
    """`app.browse.load_release`: a release's CPU names with their level and host blockers."""

    @property
    def data(self) -> ReleaseData:
        return self.value


class AdviceLoaded(Result["Advice"]):
    """`app.browse.advice_for`: the advisor's answer for the needs (browse's would-need column
    and the advise screen)."""

    @property
    def advice(self) -> Advice:
        return self.value


class FeatureLoaded(Result["FeatureView"]):
    """`app.lookup.feature_in`: one feature, where it lives and which CPU names have it."""

    @property
    def view(self) -> FeatureView:
        return self.value


class DiffLoaded(Result["CpuDiff"]):
    """`app.compare.compare_cpus`: two CPU names side by side."""

    @property
    def diff(self) -> CpuDiff:
        return self.value


class Failed(Message):
    """A request failed: `what` is the kind of answer it would have given (the `Result`
    class), `text` one line for the user (message and hint)."""

    def __init__(self, what: type[Result[Any]], text: str) -> None:
        super().__init__()
        self.what = what
        self.text = text


def error_text(e: BaseException) -> str:
    if isinstance(e, CpudbError):
        return str(e)
    return f"{type(e).__name__}: {e}"


async def _answer(node: MessagePump, done: type[Result[T]], work: Awaitable[T]) -> None:
    try:
        result = await work
    except Exception as e:  # the interface's edge: every error becomes a message
        node.post_message(Failed(done, error_text(e)))
        return
    node.post_message(done(result))


async def fetch(
    node: MessagePump, source: DbThread, done: type[Result[T]], fn: Callable[[Db], T]
) -> None:
    """Run `fn(db)` in the database thread and post `done(result)` or `Failed` to `node`."""
    await _answer(node, done, source.call(fn))


async def compute(node: MessagePump, done: type[Result[T]], fn: Callable[[], T]) -> None:
    """Run the pure `fn()` in a plain thread and post `done(result)` or `Failed` to `node`."""
    await _answer(node, done, asyncio.to_thread(fn))
