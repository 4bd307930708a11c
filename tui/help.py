"""`?`: what each screen does and its keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# cpudb tui

Which QEMU `-cpu` model gives a guest the CPU features it needs, release by release.

## Browse (first screen)
| key | does |
|---|---|
| `/` | filter by name: words, a name containing any of them is kept |
| `n` | needs: what the guest needs (`pdpe1gb la57`, `x86-64-v3`, `0x80000001.edx.26`) |
| | only the CPU names that have all of them stay |
| `w` | would need: keep every name and show what the advisor would add to it instead |
| `s` / `S` | sort by the next column / reverse (or click a column header) |
| `r` | pick the QEMU release |
| `Enter` | open the highlighted CPU name |
| `f` | open a feature (any spelling, or a CPUID location) |
| `c` | compare the highlighted name with another (`NAME@RELEASE`, `NAME@libvirt-9.0`) |
| `a` | advise: the ranked `-cpu` answers for the needs |
| `Esc` | back to the table from a box |

## CPU name
Features by CPUID leaf and register, with bit numbers and descriptions; host blockers
are marked ✗. `Enter` opens a feature, `y` copies `-cpu NAME`, `c` compares, `p`
compares with the previous version, `Esc` goes back.

## Feature
Where it lives, the CPU names of the release that have it, and since which release
each model has had it. `Enter` opens a CPU name.

## Compare
Two CPU names side by side (features matched by CPUID location, renames shown apart).
`Haswell-v4` vs `Skylake-Client-v4`, or `Skylake-Server@2.12` vs `Skylake-Server@9.2`.
`x` swaps the sides.

## Advise
Type the needs, press `Enter`: the candidates ranked as `cpudb advise` ranks them, with
their reasons. `y` (or `Enter` on a row) copies the `-cpu` line to the clipboard.

## Everywhere
`t` light/dark theme · `?` this help · `q` quit · `Ctrl+P` command palette.
With `--host NAME|FILE` the table shows which names run on that host under KVM.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "close"),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
