"""The database lives in one thread of its own; the interface awaits its answers.

SQLite connections belong to the thread that opened them, so the `Db` is opened lazily in
a single worker thread and every call runs there. Textual workers `await` the calls,
which keeps the event loop (and the interface) free while the database works.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from cpudb.query import Db

T = TypeVar("T")


class DbThread:
    """Runs `fn(db, *args)` in the database thread."""

    def __init__(self, db_path: str | None = None) -> None:
        self.db_path = db_path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cpudb-db")
        self._db: Db | None = None

    def _db_here(self) -> Db:
        if self._db is None:
            from cpudb.query import open_db

            self._db = open_db(self.db_path)
        return self._db

    async def call(self, fn: Callable[..., T], *args: object) -> T:
        future = self._pool.submit(lambda: fn(self._db_here(), *args))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
