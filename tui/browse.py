"""The first screen: the CPU names of one release in a table, filtered as you type."""

from __future__ import annotations

from typing import cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Header, Input, Select, Static

from cpudb.app import browse as d

from .filtering import (
    Column,
    Shown,
    WouldNeed,
    columns_for,
    shown_rows,
    sort_rows,
    would_need,
)
from .intents import Advise, Compare, OpenModel, PickFeature
from .messages import AdviceLoaded, Failed, ReleaseLoaded, compute, fetch
from .quick_table import Col as QCol
from .quick_table import QuickTable
from .source import DbThread


class BrowseScreen(Screen[None]):
    """CPU names of a release: name, vendor, family/model, features, kind, level, host."""

    # Letter keys are priority bindings, run as the key arrives (before the next key is
    # dispatched), so that "/" then fast typing lands in the box; `check_action` lets
    # them through to a box being typed in.
    BINDINGS = [
        Binding("slash", "focus_name", "name", key_display="/", show=False, priority=True),
        Binding("n", "focus_needs", "needs", show=False, priority=True),
        Binding("w", "toggle_would", "would need", priority=True),
        Binding("s", "sort", "sort", priority=True),
        Binding("S", "reverse", "reverse", show=False, priority=True),
        Binding("r", "pick_release", "release", priority=True),
        Binding("f", "feature", "feature", priority=True),
        Binding("c", "compare", "compare", priority=True),
        Binding("a", "advise", "advise", priority=True),
        Binding("escape", "to_table", "table", show=False),
    ]
    TYPED = frozenset(
        ("focus_name", "focus_needs", "toggle_would", "sort", "reverse", "pick_release",
         "feature", "compare", "advise")
    )  # fmt: skip

    def __init__(self, source: DbThread, qemu: str | None, host_spec: str | None) -> None:
        super().__init__()
        self.source = source
        self.qemu = qemu
        self.host_spec = host_spec
        self.data: d.ReleaseData | None = None
        self.needs = d.Needs((), ())
        self.would: dict[str, WouldNeed] | None = None
        self.shown: list[Shown] = []
        self.sort_key = "name"
        self.reverse = False
        self.selected: str | None = None

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="bar"):
            yield Select[str]([], id="release", prompt="release", allow_blank=True)
            yield Input(placeholder="name filter  /", id="name")
            yield Input(placeholder="needs: pdpe1gb la57  n", id="needs")
            yield Checkbox("would need", id="would")
        yield Static("loading…", id="status", markup=False)
        yield Static("", id="problems", markup=False)
        yield QuickTable(id="models")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#problems").display = False
        self.query_one("#models", QuickTable).focus()
        self.load(self.qemu)

    def load(self, qemu: str | None) -> None:
        label = f"QEMU {qemu}" if qemu else "the newest QEMU release"
        self.query_one("#status", Static).update(f"loading {label}…")
        host_spec = self.host_spec
        self.run_worker(
            fetch(self, self.source, ReleaseLoaded, lambda db: d.load_release(db, qemu, host_spec)),
            exclusive=True,
            group="release",
        )

    # ------------------------------------------------------------------ results

    @on(ReleaseLoaded)
    def release_loaded(self, message: ReleaseLoaded) -> None:
        self.show_release(message.data)

    @on(AdviceLoaded)
    def advice_loaded(self, message: AdviceLoaded) -> None:
        if self.data and message.advice.qemu == self.data.version:
            self.would = would_need(message.advice)
            self.refresh_table()

    @on(Failed)
    def failed(self, message: Failed) -> None:
        if message.what is ReleaseLoaded and self.data is None:
            self.query_one("#status", Static).update(f"cannot load: {message.text}")
        elif message.what is AdviceLoaded:
            self.would = {}
            self.refresh_table()

    def show_release(self, data: d.ReleaseData) -> None:
        self.data = data
        self.qemu = data.version
        select = cast(Select[str], self.query_one("#release", Select))
        with self.prevent(Select.Changed):
            select.set_options((c.label, c.version) for c in data.choices)
            select.value = data.version
        host = f" · host {data.host.label}" if data.host else ""
        self.sub_title = f"QEMU {data.version}{host}"
        self.read_needs()

    # ------------------------------------------------------------------ filtering

    def read_needs(self) -> None:
        """The needs box changed (or the release did): resolve it, then refresh."""
        if self.data is None:
            return
        self.needs = d.parse_needs(self.data.release, self.query_one("#needs", Input).value)
        problems = self.query_one("#problems", Static)
        problems.update("  ".join(self.needs.problems))
        problems.display = bool(self.needs.problems)
        if self.would_mode:
            self.would = None
            self.ask_advice()
        self.refresh_table()

    @property
    def would_mode(self) -> bool:
        return self.query_one("#would", Checkbox).value

    def ask_advice(self) -> None:
        data, needs = self.data, self.needs
        assert data is not None
        if not needs.needs:
            self.would = {}
            return
        self.run_worker(
            compute(self, AdviceLoaded, lambda: d.advice_for(data.release, needs, data.host, True)),
            exclusive=True,
            group="advice",
        )

    def refresh_table(self) -> None:
        data = self.data
        if data is None:
            return
        name_text = self.query_one("#name", Input).value
        keep = None
        if self.needs.needs and not self.would_mode:
            keep = d.models_with(data.release, self.needs)
        would = (self.would or {}) if self.would_mode else None
        cols = columns_for(data.host is not None, self.would_mode)
        if self.sort_key not in {c.key for c in cols}:
            self.sort_key, self.reverse = "name", False
        self.shown = sort_rows(
            shown_rows(data, name_text, keep, would), self.sort_key, self.reverse
        )
        table = self.query_one("#models", QuickTable)
        table.set_rows(
            [QCol(c.key, self.header(c), c.right) for c in cols],
            [(s.row.cpu.name, [c.cell(s) for c in cols]) for s in self.shown],
            keep=self.selected,
        )
        self.show_status()

    def header(self, c: Column) -> str:
        if c.key != self.sort_key:
            return c.label
        return c.label + (" ▼" if self.reverse else " ▲")

    def show_status(self) -> None:
        data = self.data
        if data is None:
            return
        parts = [f"QEMU {data.version}: {len(self.shown)} of {len(data.rows)} CPU names"]
        if self.needs.needs:
            verb = "would need" if self.would_mode else "with"
            parts.append(f"{verb} {' '.join(self.needs.names)}")
        if data.host is not None:
            usable = sum(1 for r in data.rows if not r.blockers)
            parts.append(f"{usable} usable on {data.host.label}")
        self.query_one("#status", Static).update(" · ".join(parts), layout=False)

    # ------------------------------------------------------------------ events

    @on(Input.Changed, "#name")
    def name_changed(self) -> None:
        self.refresh_table()

    @on(Input.Changed, "#needs")
    def needs_changed(self) -> None:
        self.read_needs()

    @on(Input.Submitted)
    def submitted(self) -> None:
        self.set_focus(self.query_one("#models", QuickTable))

    @on(Checkbox.Changed, "#would")
    def would_changed(self) -> None:
        self.would = None
        if self.would_mode and self.data is not None:
            self.ask_advice()
        self.refresh_table()

    @on(Select.Changed, "#release")
    def release_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and (self.data is None or event.value != self.data.version):
            self.load(event.value)

    @on(QuickTable.Highlighted, "#models")
    def highlighted(self, event: QuickTable.Highlighted) -> None:
        self.selected = event.key

    @on(QuickTable.Selected, "#models")
    def open_model(self, event: QuickTable.Selected) -> None:
        if self.data is not None:
            self.post_message(OpenModel(self.data, event.key))

    @on(QuickTable.HeaderClicked, "#models")
    def header_clicked(self, event: QuickTable.HeaderClicked) -> None:
        key = event.key
        if key == self.sort_key:
            self.reverse = not self.reverse
        else:
            self.sort_key, self.reverse = key, False
        self.refresh_table()

    # ------------------------------------------------------------------ actions

    def typing(self) -> bool:
        """A box or the release list has the keyboard: letters are text, not commands."""
        f = self.focused
        return f is not None and (
            isinstance(f, Input) or any(isinstance(a, Select) for a in f.ancestors_with_self)
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.TYPED and self.typing())

    def action_focus_name(self) -> None:
        self.set_focus(self.query_one("#name", Input))

    def action_focus_needs(self) -> None:
        self.set_focus(self.query_one("#needs", Input))

    def action_to_table(self) -> None:
        self.set_focus(self.query_one("#models", QuickTable))

    def action_toggle_would(self) -> None:
        self.query_one("#would", Checkbox).toggle()

    def action_sort(self) -> None:
        """Sort by the next column (the header shows which, ▲/▼)."""
        if self.data is None:
            return
        keys = [c.key for c in columns_for(self.data.host is not None, self.would_mode)]
        i = keys.index(self.sort_key) if self.sort_key in keys else -1
        self.sort_key, self.reverse = keys[(i + 1) % len(keys)], False
        self.refresh_table()

    def action_reverse(self) -> None:
        self.reverse = not self.reverse
        self.refresh_table()

    def action_pick_release(self) -> None:
        select = self.query_one("#release", Select)
        self.set_focus(select)
        select.expanded = True

    def action_feature(self) -> None:
        if self.data is not None:
            self.post_message(PickFeature(self.data))

    def action_compare(self) -> None:
        if self.data is not None:
            self.post_message(Compare(self.data, self.selected))

    def action_advise(self) -> None:
        if self.data is not None:
            self.post_message(Advise(self.data, self.query_one("#needs", Input).value))
