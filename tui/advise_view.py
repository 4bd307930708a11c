"""The advisor: type the needs, see the ranked `-cpu` answers with their reasons, copy one."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from cpudb.app import browse as d
from cpudb.render.advice import qemu_arg

from .messages import AdviceLoaded, Failed, compute

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cpudb.advise import Advice, Candidate


def explain(c: Candidate) -> Text:
    t = Text()
    t.append(qemu_arg(c), style="bold")
    if c.aka:
        t.append(f"  (also {', '.join(c.aka)})", style="dim")
    for r in c.reasons:
        t.append(f"\n· {r}")
    for a in (*c.adds, *c.extras):
        t.append(f"\n+ {a.name}: {a.why}", style="yellow")
    for host, lacking in c.blockers:
        t.append(f"\n✗ {host} lacks {' '.join(lacking)}", style="red")
    for note in c.notes:
        t.append(f"\nnote: {note}", style="dim")
    return t


def no_answer(a: Advice) -> Text:
    t = Text("No CPU name works:", style="bold red")
    for s in a.impossible:
        t.append(f"\n· {s}")
    return t


class AdviseScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("y", "copy", "copy -cpu"),
        Binding("n", "focus_needs", "needs", priority=True),  # see BrowseScreen.BINDINGS
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "focus_needs" and isinstance(self.focused, Input))

    def __init__(self, data: d.ReleaseData, needs: str = "") -> None:
        super().__init__()
        self.data = data
        self.start = needs
        self.advice: Advice | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            self.start, placeholder="the guest needs: pdpe1gb la57 x86-64-v3 …", id="advise-needs"
        )
        yield Static("type what the guest needs and press Enter", id="verdict", markup=False)
        yield DataTable(id="candidates", cursor_type="row", zebra_stripes=True)
        yield Static("", id="why", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        host = f" · host {self.data.host.label}" if self.data.host else ""
        self.sub_title = f"advise · QEMU {self.data.version}{host}"
        if self.start.strip():
            self.ask(self.start)
        else:
            self.query_one("#advise-needs", Input).focus()

    @on(Input.Submitted, "#advise-needs")
    def submitted(self, event: Input.Submitted) -> None:
        self.ask(event.value)

    def ask(self, text: str) -> None:
        needs = d.parse_needs(self.data.release, text)
        verdict = self.query_one("#verdict", Static)
        if needs.problems:
            verdict.update(Text("  ".join(needs.problems), style="red"))
            return
        if not needs.needs:
            verdict.update("type what the guest needs and press Enter")
            return
        verdict.update(f"advising for {' '.join(needs.names)}…")
        release, host = self.data.release, self.data.host
        self.run_worker(
            compute(self, AdviceLoaded, lambda: d.advice_for(release, needs, host, False)),
            exclusive=True,
        )

    @on(AdviceLoaded)
    def loaded(self, message: AdviceLoaded) -> None:
        a = message.advice
        self.advice = a
        verdict = self.query_one("#verdict", Static)
        table = self.query_one("#candidates", DataTable)
        table.clear(columns=True)
        best = a.best
        if best is None:
            verdict.update(no_answer(a))
            self.query_one("#why", Static).update("")
            return
        head = Text("best: ")
        head.append(qemu_arg(best), style="bold green")
        head.append(f"   ({len(a.candidates)} candidates, y copies the highlighted one)")
        verdict.update(head)
        table.add_column("#", key="rank")
        table.add_column("-cpu", key="cpu")
        table.add_column("level", key="level")
        if a.hosts:
            table.add_column("on host", key="host")
        for i, c in enumerate(a.candidates, 1):
            cells: list[object] = [
                Text(str(i), justify="right"),
                Text(c.cpu(), style="" if c.native else "yellow"),
                f"v{c.level}" if c.level else "-",
            ]
            if a.hosts:
                cells.append(Text("blocked", style="red") if c.blockers else "runs")
            table.add_row(*cells, key=c.name)
        table.focus()
        self.query_one("#why", Static).update(explain(best))

    @on(Failed)
    def failed(self, message: Failed) -> None:
        self.query_one("#verdict", Static).update(Text(message.text, style="red"))

    def highlighted_candidate(self) -> Candidate | None:
        if self.advice is None or not self.advice.candidates:
            return None
        row = self.query_one("#candidates", DataTable).cursor_row
        cands = self.advice.candidates
        return cands[row] if 0 <= row < len(cands) else cands[0]

    @on(DataTable.RowHighlighted, "#candidates")
    def highlighted(self) -> None:
        c = self.highlighted_candidate()
        if c is not None:
            self.query_one("#why", Static).update(explain(c))

    @on(DataTable.RowSelected, "#candidates")
    def selected(self) -> None:
        self.action_copy()

    def action_copy(self) -> None:
        c = self.highlighted_candidate()
        if c is None:
            self.app.notify(
                "nothing to copy yet: type the needs and press Enter", severity="warning"
            )
            return
        arg = qemu_arg(c)
        self.app.copy_to_clipboard(arg)
        self.app.notify(f"copied: {arg}")

    def action_focus_needs(self) -> None:
        self.set_focus(self.query_one("#advise-needs", Input))
