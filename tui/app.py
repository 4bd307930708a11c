"""The application and its one factory, used by `cpudb tui` and by the tests."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from .messages import Failed
from .source import DbThread


class CpudbApp(App[int]):
    """Browse QEMU releases, CPU names and features; compare; advise."""

    TITLE = "cpudb"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("q", "quit", "quit"),
        Binding("t", "toggle_dark", "theme"),
    ]

    def __init__(self, source: DbThread, qemu: str | None, host: str | None) -> None:
        super().__init__()
        self.source = source
        self.qemu = qemu
        self.host_spec = host

    def get_default_screen(self) -> Screen:
        from .browse import BrowseScreen

        return BrowseScreen(self.qemu)

    def action_help(self) -> None:
        from .help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def on_failed(self, message: Failed) -> None:
        """Errors that no screen handled: one line, never a traceback."""
        self.notify(message.text, title="cpudb", severity="error", timeout=8)

    def on_unmount(self) -> None:
        self.source.close()


def make_app(
    db_path: str | None = None, qemu: str | None = None, host: str | None = None
) -> CpudbApp:
    """`cpudb tui [--db PATH] [--qemu V] [--host NAME|FILE]` as an App object."""
    return CpudbApp(DbThread(db_path), qemu, host)
