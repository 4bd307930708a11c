"""One feature: where it lives (CPUID leaf/register/bit), which CPU names have it, since when."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from cpudb.app import browse as d
from cpudb.app.lookup import feature_in, feature_name
from cpudb.errors import CpudbError
from cpudb.versions import version_key

from .intents import OpenModel
from .messages import Failed, FeatureLoaded, fetch
from .source import DbThread

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cpudb.describe import FeatureView


class FeaturePrompt(ModalScreen[str | None]):
    """Ask for a feature in any spelling; dismiss with its name, or None."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, data: d.ReleaseData) -> None:
        super().__init__()
        self.data = data

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Label(
                f"Feature of QEMU {self.data.version}: a QEMU, Linux or libvirt name, "
                "or a CPUID location (0x80000001.edx.26)"
            )
            yield Input(placeholder="pdpe1gb", id="feature")
            yield Static("", id="prompt-error", markup=False)

    @on(Input.Submitted, "#feature")
    def submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        try:
            name = feature_name(self.data.release, text)
        except CpudbError as e:
            self.query_one("#prompt-error", Static).update(Text(str(e), style="red"))
            return
        self.dismiss(name)

    def action_cancel(self) -> None:
        self.dismiss(None)


def about(v: FeatureView) -> Text:
    w = v.word
    t = Text()
    t.append(v.name, style="bold")
    t.append(f"  {w.describe(v.feature.bit)}", style="cyan")
    t.append(f"  ({v.feature.location}, QEMU word {w.name})")
    if v.description:
        t.append(f"\n{v.description}")
    extra = []
    if v.aliases:
        extra.append(f"QEMU aliases: {', '.join(v.aliases)}")
    if v.linux_name:
        extra.append(f"Linux /proc/cpuinfo: {v.linux_name}")
    if extra:
        t.append("\n" + " · ".join(extra))
    if v.spellings:
        t.append("\nQEMU name: " + ", ".join(f"{n} since {r}" for r, n in v.spellings))
    t.append(f"\n{len(v.cpus)} CPU names of QEMU {v.release} have it")
    if not v.cpus:
        t.append(f": add it with -cpu MODEL,{v.name}=on")
    return t


class FeatureScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "back")]

    def __init__(self, data: d.ReleaseData, source: DbThread, text: str) -> None:
        super().__init__()
        self.data = data
        self.source = source
        self.text = text
        self.view: FeatureView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"loading {self.text}…", id="about", markup=False)
        yield DataTable(id="holders", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.sub_title = f"{self.text} · QEMU {self.data.version}"
        version, text = self.data.version, self.text
        self.run_worker(
            fetch(
                self,
                self.source,
                FeatureLoaded,
                lambda db: feature_in(db, db.release(version), text),
            ),
            exclusive=True,
        )

    @on(FeatureLoaded)
    def loaded(self, message: FeatureLoaded) -> None:
        v = message.view
        self.view = v
        self.query_one("#about", Static).update(about(v))
        since = dict(v.first_gained)  # model -> first release one of its names had it
        table = self.query_one("#holders", DataTable)
        table.add_column("CPU name with it", key="name")
        table.add_column("model", key="model")
        table.add_column("model has it since", key="since")
        rows = []
        for name in v.cpus:
            c = self.data.release.cpu(name)
            model = c.model if c else ""
            rows.append((name, model, since.get(model, "")))
        rows.sort(key=lambda r: (version_key(r[2]) if r[2] else ((9999,), ""), r[0].lower()))
        for name, model, first in rows:
            table.add_row(name, model, first, key=name)
        table.focus()

    @on(Failed)
    def failed(self, message: Failed) -> None:
        self.query_one("#about", Static).update(Text(message.text, style="red"))

    @on(DataTable.RowSelected, "#holders")
    def open_model(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(OpenModel(self.data, event.row_key.value))
