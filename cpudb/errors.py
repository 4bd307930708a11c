"""One exception hierarchy, caught once at the CLI edge (exit status 2)."""

from __future__ import annotations

import re

_REPR_SURROGATE = re.compile(r"\\udc([89a-f][0-9a-f])")


def printable(text: str) -> str:
    """Bytes that were not UTF-8 (in a command-line argument or a file name) shown as `\\xff`,
    the way the user would write them, not as the `\\udcff` Python keeps them as, raw or
    inside a repr()."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate surrogateescape did not make
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _REPR_SURROGATE.sub(r"\\x\1", text)


class CpudbError(Exception):
    """An error the user can act on: a message plus a hint."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} (hint: {self.hint})"
        return self.message


class ParseError(CpudbError):
    """Input text we do not understand: names the file, line and token."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        token: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = ""
        if file:
            where = file + (f":{line}" if line else "") + ": "
        elif line:
            where = f"line {line}: "
        tok = f" (at {token!r})" if token is not None else ""
        super().__init__(f"{where}{message}{tok}", hint)
        self.file = file
        self.line = line
        self.token = token


class SourceError(CpudbError):
    """A source (directory, tarball, git ref, URL, binary) cannot be read."""


class NotFound(CpudbError):
    """An unknown release, CPU name or feature name."""


class StoreError(CpudbError):
    """The database is unreadable, corrupt or from another schema."""
