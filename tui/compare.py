"""Two CPU names side by side, in one release or across two (`Haswell@7.2`): the diff
module's `diff_cpus`, features matched by CPUID location so renames are not changes."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from cpudb.app import browse as d
from cpudb.app.compare import compare_cpus, parse_side
from cpudb.errors import CpudbError

from .messages import DiffLoaded, Failed, fetch
from .source import DbThread

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cpudb.diff import CpuDiff
    from cpudb.locations import FeatureRef


def headline(diff: CpuDiff) -> Text:
    a, b = diff.first, diff.second
    t = Text()
    t.append(f"{a.name}", style="bold")
    t.append(f" (QEMU {a.version}, {a.feature_count} features)  vs  ")
    t.append(f"{b.name}", style="bold")
    t.append(f" (QEMU {b.version}, {b.feature_count} features)")
    t.append(f"\n{len(diff.common)} in common · ")
    t.append(f"{len(diff.only_in_first)} only in the first", style="red")
    t.append(" · ")
    t.append(f"{len(diff.only_in_second)} only in the second", style="green")
    if diff.renamed:
        t.append("\nrenamed: " + ", ".join(f"{r.old} → {r.new}" for r in diff.renamed))
    return t


class CompareScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("x", "swap", "swap"),
    ]

    def __init__(
        self,
        data: d.ReleaseData,
        source: DbThread,
        first: str | None,
        second: str | None = None,
    ) -> None:
        super().__init__()
        self.data = data
        self.source = source
        self.first = first or ""
        self.second = second or ""
        self.diff: CpuDiff | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="sides"):
            yield Input(self.first, placeholder="first: Haswell-v4 or Haswell@7.2", id="first")
            yield Input(self.second, placeholder="second: NAME or NAME@RELEASE", id="second")
        yield Static(
            "type two CPU names and press Enter (NAME@RELEASE: across releases; "
            "NAME@libvirt-V: libvirt V's model)",
            id="headline",
            markup=False,
        )
        with Horizontal(id="columns"):
            yield DataTable(id="only-first", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="only-second", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.sub_title = f"compare · QEMU {self.data.version}"
        if self.first and self.second:
            self.compare()
        else:
            self.set_focus(self.query_one("#second" if self.first else "#first", Input))

    @on(Input.Submitted)
    def submitted(self) -> None:
        first = self.query_one("#first", Input)
        second = self.query_one("#second", Input)
        if not first.value.strip():
            self.set_focus(first)
        elif not second.value.strip():
            self.set_focus(second)
        else:
            self.compare()

    def compare(self) -> None:
        try:
            a = parse_side(self.query_one("#first", Input).value)
            b = parse_side(self.query_one("#second", Input).value)
        except CpudbError as e:
            self.app.notify(str(e), severity="error")
            return
        version = self.data.version
        self.query_one("#headline", Static).update(f"comparing {a.name} and {b.name}…")
        self.run_worker(
            fetch(self, self.source, DiffLoaded, lambda db: compare_cpus(db, a, b, version)),
            exclusive=True,
        )

    @on(DiffLoaded)
    def loaded(self, message: DiffLoaded) -> None:
        diff = message.diff
        self.diff = diff
        self.query_one("#headline", Static).update(headline(diff))
        self.fill("#only-first", f"only in {diff.first.name}", diff.only_in_first, "red")
        self.fill("#only-second", f"only in {diff.second.name}", diff.only_in_second, "green")
        self.set_focus(self.query_one("#only-first", DataTable))

    def fill(self, selector: str, title: str, refs: tuple[FeatureRef, ...], style: str) -> None:
        table = self.query_one(selector, DataTable)
        table.clear(columns=True)
        table.border_title = Text(f"{title} ({len(refs)})", style=style)
        table.add_column("feature", key="name")
        table.add_column("CPUID", key="where")
        for r in refs:
            table.add_row(r.name, Text(r.cpuid, style="cyan"), key=r.location)

    @on(Failed)
    def failed(self, message: Failed) -> None:
        self.query_one("#headline", Static).update(Text(message.text, style="red"))

    def action_swap(self) -> None:
        first = self.query_one("#first", Input)
        second = self.query_one("#second", Input)
        first.value, second.value = second.value, first.value
        if first.value.strip() and second.value.strip():
            self.compare()
