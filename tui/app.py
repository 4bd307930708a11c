"""The application and its one factory, used by `cpudb tui` and by the tests.

The App alone knows the screens: each screen posts an intent (`intents.py`) and the App
maps it to the screen it pushes, so the screens never import one another. The screen
modules load when first opened.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from .intents import Advise, Compare, OpenFeature, OpenModel, PickFeature
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

    def get_default_screen(self) -> Screen[Any]:
        from .browse import BrowseScreen

        return BrowseScreen(self.source, self.qemu, self.host_spec)

    def action_help(self) -> None:
        from .help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # ------------------------------------------------------------------ intents

    @on(OpenModel)
    def open_model(self, intent: OpenModel) -> None:
        from .model_view import ModelScreen

        self.push_screen(ModelScreen(intent.data, intent.name))

    @on(OpenFeature)
    def open_feature(self, intent: OpenFeature) -> None:
        from .feature_view import FeatureScreen

        self.push_screen(FeatureScreen(intent.data, self.source, intent.name))

    @on(PickFeature)
    def pick_feature(self, intent: PickFeature) -> None:
        from .feature_view import FeaturePrompt, FeatureScreen

        data = intent.data

        def picked(name: str | None) -> None:
            if name:
                self.push_screen(FeatureScreen(data, self.source, name))

        self.push_screen(FeaturePrompt(data), picked)

    @on(Compare)
    def compare(self, intent: Compare) -> None:
        from .compare import CompareScreen

        self.push_screen(CompareScreen(intent.data, self.source, intent.first, intent.second))

    @on(Advise)
    def advise(self, intent: Advise) -> None:
        from .advise_view import AdviseScreen

        self.push_screen(AdviseScreen(intent.data, intent.needs))

    # ------------------------------------------------------------------ errors

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
