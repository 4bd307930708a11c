"""One CPU name: its features by CPUID leaf/register with bit numbers and descriptions,
aliases and notes, what changed from the previous version, the host's blockers."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from cpudb.app.lookup import show_cpu

from .intents import Compare, OpenFeature
from .messages import error_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cpudb.app.browse import ReleaseData
    from cpudb.describe import CpuView


def summary(v: CpuView, blockers: tuple[str, ...] | None, host: str | None) -> Text:
    """The lines above the feature table."""
    c = v.cpu
    t = Text()
    t.append(c.name, style="bold")
    t.append(f"  QEMU {v.release} · {c.kind}")
    if c.alias_of:
        t.append(f" of {c.alias_of}" if c.kind == "alias" else f" = {c.alias_of} (by machine type)")
    if v.aliases:
        t.append(f" · also: {', '.join(v.aliases)}")
    t.append(f"\n{c.vendor.strip()} family {c.family} model {c.model_number} stepping {c.stepping}")
    t.append(f" · x86-64-v{v.level}" if v.level else " · below x86-64-v1")
    t.append(f" · {len(v.features)} features")
    t.append(f"\nmodel-id {c.model_id!r}")
    if c.note:
        t.append(f"\nnote: {c.note}")
    if c.deprecation_note:
        t.append(f"\ndeprecated: {c.deprecation_note}", style="yellow")
    if v.previous:
        t.append(f"\nvs {v.previous}: ")
        if not (v.added or v.removed):
            t.append("no feature change")
        for a in v.added:
            t.append(f"+{a} ", style="green")
        for r in v.removed:
            t.append(f"-{r} ", style="red")
    if blockers is not None:
        t.append(f"\nhost {host}: ")
        if blockers:
            n = len(blockers)
            t.append(
                f"{n} blocker{'s' if n > 1 else ''} under KVM: {' '.join(blockers)}",
                style="bold red",
            )
        else:
            t.append("runs under KVM (no blocker)", style="green")
    return t


class ModelScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("y", "copy", "copy -cpu"),
        Binding("c", "compare", "compare"),
        Binding("p", "previous", "vs previous"),
        Binding("b", "next_blocker", "next blocker"),
    ]

    def __init__(self, data: ReleaseData, name: str) -> None:
        super().__init__()
        self.data = data
        self.cpu_name = name
        self.view: CpuView | None = None
        self.names: dict[str, str] = {}  # row key (location) -> feature name
        self.blocked_rows: list[int] = []  # table rows of the host's blockers

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="summary", markup=False)
        yield DataTable(id="features", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        try:
            self.view = show_cpu(self.data.release, self.cpu_name)
        except Exception as e:  # the interface's edge: say it, go back
            self.app.notify(error_text(e), severity="error")
            self.app.pop_screen()
            return
        v = self.view
        row = self.data.row(v.cpu.name)
        blockers = row.blockers if row is not None else None
        host = self.data.host.label if self.data.host else None
        self.sub_title = f"{v.cpu.name} · QEMU {v.release}"
        self.query_one("#summary", Static).update(summary(v, blockers, host))
        table = self.query_one("#features", DataTable)
        table.add_column("CPUID leaf:reg", key="word")
        table.add_column("bit", key="bit")
        table.add_column("feature", key="name")
        table.add_column("about", key="about")
        lacking = set(blockers or ())
        for g in v.groups:
            for i, f in enumerate(g.features):
                self.names[f.location] = f.name
                blocked = f.name in lacking
                if blocked:
                    self.blocked_rows.append(table.row_count)
                name = Text(("✗ " if blocked else "") + f.name, style="bold red" if blocked else "")
                linux = f.linux_name if f.linux_name and f.linux_name != f.name else None
                about = f.description or (f"Linux: {linux}" if linux else "")
                table.add_row(
                    Text(g.title if i == 0 else "", style="cyan"),
                    Text(str(f.bit), justify="right"),
                    name,
                    Text(about, style="dim" if not f.description else ""),
                    key=f.location,
                )
        table.focus()
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#features")
    def open_feature(self, event: DataTable.RowSelected) -> None:
        name = self.names.get(event.row_key.value or "")
        if name is not None:
            self.post_message(OpenFeature(self.data, name))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_blocker":
            return bool(self.blocked_rows)
        return True

    def action_next_blocker(self) -> None:
        table = self.query_one("#features", DataTable)
        later = [r for r in self.blocked_rows if r > table.cursor_row]
        table.move_cursor(row=(later or self.blocked_rows)[0])

    def cpu_arg(self) -> str:
        return f"-cpu {self.view.cpu.name if self.view else self.cpu_name}"

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.cpu_arg())
        self.app.notify(f"copied: {self.cpu_arg()}")

    def action_compare(self) -> None:
        self.post_message(Compare(self.data, self.cpu_name))

    def action_previous(self) -> None:
        if self.view is None or self.view.previous is None:
            self.app.notify("no previous version of this CPU name", severity="warning")
            return
        self.post_message(Compare(self.data, self.view.previous, self.view.cpu.name))
