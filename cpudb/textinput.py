"""Reading a user's text file (or stdin) with bounded memory, failing fast on what is not
text: line by line, each line cut at LINE_LIMIT bytes, binary data refused at once.

`open_lines(path)` yields lines for a log of any size; `read_small(path, limit)` reads a
file that is small by nature (a CPUID dump, /proc/cpuinfo) and refuses a bigger one
before reading it.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator

from cpudb.errors import CpudbError

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Protocol, TextIO

    class ByteStream(Protocol):
        """What is read here: a file opened "rb", stdin's buffer, or an _Encoded."""

        def readline(self, n: int = -1, /) -> bytes: ...
        def read(self, n: int = -1, /) -> bytes: ...
        def fileno(self) -> int: ...
        def close(self) -> None: ...


LINE_LIMIT = 1 << 16  # a longer line is cut: no log line this long means anything
SNIFF = 1 << 13  # bytes looked at to tell text from binary


def _open(path: str, what: str) -> ByteStream:
    if path == "-":
        if sys.stdin.isatty():
            raise CpudbError(
                "no input given and standard input is a terminal",
                hint=f"give a {what} file, or pipe one in with -",
            )
        buffer: ByteStream | None = getattr(sys.stdin, "buffer", None)
        return buffer or _Encoded(sys.stdin)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise CpudbError(f"{path}: no such file", hint=f"give the path of a {what}") from None
    except OSError as e:
        raise CpudbError(f"{path}: cannot read ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise CpudbError(f"{path}: is a directory", hint=f"give a {what} file")
    if not stat.S_ISREG(st.st_mode):
        raise CpudbError(
            f"{path}: not a regular file (a FIFO or device would be read for ever)",
            hint=f"save the {what} to a file, or pipe it in with -",
        )
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller's generator
    except OSError as e:
        raise CpudbError(f"{path}: cannot read ({e.strerror})") from None


class _Encoded:
    """A text stream read as bytes (stdin replaced by a StringIO, as tests do)."""

    def __init__(self, text: TextIO) -> None:
        self._t = text

    def readline(self, n: int = -1) -> bytes:
        return bytes(self._t.readline(n).encode("utf-8"))

    def read(self, n: int = -1) -> bytes:
        return bytes(self._t.read(n).encode("utf-8"))

    def fileno(self) -> int:
        raise OSError("not a file")

    def close(self) -> None:
        pass


def _stdin(fh: ByteStream) -> bool:
    return fh is getattr(sys.stdin, "buffer", None) or isinstance(fh, _Encoded)


def _refuse_binary(head: bytes, path: str, what: str) -> None:
    if b"\x00" in head[:SNIFF]:
        at = head.index(b"\x00")
        raise CpudbError(
            f"{path}: binary data (a NUL byte at offset {at}), not a {what}",
            hint=f"give the text of a {what}",
        )


def open_lines(path: str, what: str = "log") -> Iterator[str]:
    """The lines of `path` ("-": stdin), without their line ends, each at most
    LINE_LIMIT bytes; CpudbError (exit 2) on a path that cannot be read or on binary
    data at the start."""
    fh = _open(path, what)
    return _lines(fh, path, what)


def _lines(fh: ByteStream, path: str, what: str) -> Iterator[str]:
    try:
        first = True
        while True:
            chunk = fh.readline(LINE_LIMIT)
            if not chunk:
                return
            if first:
                _refuse_binary(chunk, "<stdin>" if path == "-" else path, what)
                first = False
            if len(chunk) == LINE_LIMIT and not chunk.endswith(b"\n"):
                while True:  # the rest of an over-long line is dropped unread
                    more = fh.readline(LINE_LIMIT)
                    if not more or more.endswith(b"\n"):
                        break
            yield chunk.decode("utf-8", errors="replace").rstrip("\r\n")
    finally:
        if not _stdin(fh):
            fh.close()


def read_small(path: str, limit: int, what: str) -> str:
    """The whole text of a file that is small by nature; refuses more than `limit` bytes
    (checked before reading a regular file) and binary data."""
    fh = _open(path, what)
    name = "<stdin>" if path == "-" else path
    too_big = CpudbError(
        f"{name}: more than {limit >> 20} MiB, too big for a {what}",
        hint=f"give a {what} (a few KiB to a few MiB)",
    )
    if not _stdin(fh) and os.fstat(fh.fileno()).st_size > limit:
        fh.close()
        raise too_big
    try:
        data = fh.read(limit + 1)
    except OSError as e:
        raise CpudbError(f"{name}: cannot read ({e.strerror})") from None
    finally:
        if not _stdin(fh):
            fh.close()
    if len(data) > limit:
        raise too_big
    _refuse_binary(data, name, what)
    return data.decode("utf-8", errors="replace")
