"""The first screen: the CPU names of one release in a table, filtered as you type."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Footer, Header, Input, Select, Static

from . import data as d
from .filtering import (
    Column,
    Shown,
    WouldNeed,
    columns_for,
    shown_rows,
    sort_rows,
    vendor_label,
    would_need,
)
from .messages import Failed, Loaded, fetch

if TYPE_CHECKING:
    from .app import CpudbApp


class BrowseScreen(Screen):
    """CPU names of a release: name, vendor, family/model, features, kind, level, host."""

    BINDINGS = [
        Binding("slash", "focus_name", "name", key_display="/", show=False),
        Binding("n", "focus_needs", "needs", show=False),
        Binding("w", "toggle_would", "would need"),
        Binding("s", "sort", "sort"),
        Binding("S", "reverse", "reverse", show=False),
        Binding("r", "pick_release", "release"),
        Binding("f", "feature", "feature"),
        Binding("c", "compare", "compare"),
        Binding("a", "advise", "advise"),
        Binding("escape", "to_table", "Table", show=False),
    ]

    def __init__(self, qemu: str | None) -> None:
        super().__init__()
        self.qemu = qemu
        self.data: d.ReleaseData | None = None
        self.needs = d.Needs((), ())
        self.would: dict[str, WouldNeed] | None = None
        self.shown: list[Shown] = []
        self.sort_key = "name"
        self.reverse = False
        self.selected: str | None = None
        self.updates = 0  # table refreshes, for tests and the benchmark

    @property
    def cpudb(self) -> CpudbApp:
        return cast("CpudbApp", self.app)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="bar"):
            yield Select[str]([], id="release", prompt="release", allow_blank=True)
            yield Input(placeholder="name filter  /", id="name")
            yield Input(placeholder="needs: pdpe1gb la57  n", id="needs")
            yield Checkbox("would need", id="would")
        yield Static("loading…", id="status")
        yield Static("", id="problems")
        yield DataTable(id="models", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#problems").display = False
        self.query_one("#models", DataTable).focus()
        self.load(self.qemu)

    def load(self, qemu: str | None) -> None:
        label = f"QEMU {qemu}" if qemu else "the newest QEMU release"
        self.query_one("#status", Static).update(f"loading {label}…")
        self.run_worker(
            fetch(self, self.cpudb.source, "release", d.load_release, qemu, self.cpudb.host_spec),
            exclusive=True,
            group="release",
        )

    # ------------------------------------------------------------------ results

    @on(Loaded)
    def loaded(self, message: Loaded) -> None:
        if message.what == "release":
            self.show_release(message.result)
        elif message.what == "advice" and self.data and message.result.qemu == self.data.version:
            self.would = would_need(message.result)
            self.refresh_table()

    @on(Failed)
    def failed(self, message: Failed) -> None:
        if message.what == "release" and self.data is None:
            self.query_one("#status", Static).update(f"cannot load: {message.text}")
        elif message.what == "advice":
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
        assert self.data is not None
        if not self.needs.needs:
            self.would = {}
            return
        self.run_worker(
            fetch(
                self,
                None,
                "advice",
                d.advice_for,
                self.data.release,
                self.needs,
                self.data.host,
                True,
            ),
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
        table = self.query_one("#models", DataTable)
        keep_cursor = self.selected
        table.clear(columns=True)
        for c in cols:
            table.add_column(self.header(c), key=c.key)
        for s in self.shown:
            table.add_row(*self.cells(s, cols), key=s.row.cpu.name)
        if keep_cursor is not None and keep_cursor in {s.row.cpu.name for s in self.shown}:
            table.move_cursor(row=table.get_row_index(keep_cursor))
        self.updates += 1
        self.show_status()

    def header(self, c: Column) -> Text:
        if c.key != self.sort_key:
            return Text(c.label)
        return Text(c.label + (" ▼" if self.reverse else " ▲"), style="bold")

    def cells(self, s: Shown, cols: tuple[Column, ...]) -> list[object]:
        c = s.row.cpu
        out: list[object] = []
        for col in cols:
            if col.key == "name":
                out.append(Text(c.name, style="dim" if c.deprecation_note else ""))
            elif col.key == "kind":
                out.append(c.kind)
            elif col.key == "vendor":
                out.append(vendor_label(c.vendor))
            elif col.key == "fammod":
                out.append(f"{c.family}/{c.model_number}")
            elif col.key == "features":
                out.append(Text(str(len(s.row.features)), justify="right"))
            elif col.key == "level":
                out.append(f"v{s.row.level}" if s.row.level else "-")
            elif col.key == "host":
                b = s.row.blockers or ()
                out.append(
                    Text(f"{len(b)} blocker{'s' if len(b) > 1 else ''}", style="red")
                    if b
                    else Text("usable", style="green")
                )
            elif col.key == "would":
                out.append(self.would_cell(s.would))
        return out

    def would_cell(self, w: WouldNeed | None) -> Text:
        if w is None:
            return Text("…" if self.would is None else "", style="dim")
        if w.text == "nothing":
            return Text("has all", style="green")
        return Text(w.text, style="red" if w.text.startswith("no:") else "yellow")

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
        self.query_one("#status", Static).update(" · ".join(parts))

    # ------------------------------------------------------------------ events

    @on(Input.Changed, "#name")
    def name_changed(self) -> None:
        self.refresh_table()

    @on(Input.Changed, "#needs")
    def needs_changed(self) -> None:
        self.read_needs()

    @on(Input.Submitted)
    def submitted(self) -> None:
        self.query_one("#models", DataTable).focus()

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

    @on(DataTable.RowHighlighted, "#models")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.selected = event.row_key.value

    @on(DataTable.RowSelected, "#models")
    def open_model(self, event: DataTable.RowSelected) -> None:
        if self.data is not None and event.row_key.value is not None:
            from .model_view import ModelScreen

            self.app.push_screen(ModelScreen(self.data, event.row_key.value))

    @on(DataTable.HeaderSelected, "#models")
    def header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key == self.sort_key:
            self.reverse = not self.reverse
        else:
            self.sort_key, self.reverse = key, False
        self.refresh_table()

    # ------------------------------------------------------------------ actions

    def action_focus_name(self) -> None:
        self.query_one("#name", Input).focus()

    def action_focus_needs(self) -> None:
        self.query_one("#needs", Input).focus()

    def action_to_table(self) -> None:
        self.query_one("#models", DataTable).focus()

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
        select.focus()
        select.expanded = True

    def action_feature(self) -> None:
        if self.data is None:
            return
        from .feature_view import FeaturePrompt, FeatureScreen

        data = self.data

        def opened(text: str | None) -> None:
            if text:
                self.app.push_screen(FeatureScreen(data, text))

        self.app.push_screen(FeaturePrompt(data), opened)

    def action_compare(self) -> None:
        if self.data is None:
            return
        from .compare import CompareScreen

        self.app.push_screen(CompareScreen(self.data, self.selected))

    def action_advise(self) -> None:
        if self.data is None:
            return
        from .advise_view import AdviseScreen

        self.app.push_screen(AdviseScreen(self.data, self.query_one("#needs", Input).value))
