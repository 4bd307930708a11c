"""A light table for the browse screen: rows drawn line by line from plain strings.

Textual's DataTable measures and renders every cell through Rich (about 1 ms a cell),
too slow to rebuild 186 rows at each keystroke of a filter. Here a row is a tuple of
(text, tone) cells; widths come from string lengths; only the visible lines are drawn.
Keys: up/down/page up/page down/home/end move, Enter selects; a click on a header sorts,
a click on a row highlights it and a second click opens it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cpudb.record import Record

TONES = ("good", "bad", "warn", "dim", "strong")


class Col(Record):
    key: str
    label: str
    right: bool = False  # right-justified (numbers)


Cell = tuple[str, str]  # (text, tone: "" or one of TONES)


class QuickTable(ScrollView, can_focus=True):
    """Rows of plain-text cells with a fixed header line and a row cursor."""

    DEFAULT_CSS = """
    QuickTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        &:focus {
            background-tint: $foreground 5%;
            & > .quick-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .quick-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .quick-table--even { background: $surface-lighten-1 50%; }
        & > .quick-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        & > .quick-table--good { color: $success; }
        & > .quick-table--bad { color: $error; }
        & > .quick-table--warn { color: $warning; }
        & > .quick-table--dim { color: $foreground-muted; }
        & > .quick-table--strong { text-style: bold; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "quick-table--header",
        "quick-table--even",
        "quick-table--cursor",
        *(f"quick-table--{t}" for t in TONES),
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "up", show=False),
        Binding("down", "move(1)", "down", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown", "page(1)", "page down", show=False),
        Binding("home", "jump(0)", "first", show=False),
        Binding("end", "jump(-1)", "last", show=False),
        Binding("enter", "select", "open", show=False),
    ]

    cursor: reactive[int] = reactive(0)

    class _Event(Message):
        def __init__(self, table: QuickTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key  # row key, or column key for HeaderClicked

        @property
        def control(self) -> QuickTable:
            return self.table

    class Highlighted(_Event):
        """The cursor moved to row `key`."""

    class Selected(_Event):
        """Row `key` was opened (Enter, or a click on the highlighted row)."""

    class HeaderClicked(_Event):
        """The header of column `key` was clicked."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: tuple[Col, ...] = ()
        self.keys: list[str] = []
        self.rows: list[Sequence[Cell]] = []
        self.widths: list[int] = []

    # ------------------------------------------------------------------ content

    def set_rows(
        self,
        columns: Sequence[Col],
        rows: Sequence[tuple[str, Sequence[Cell]]],
        keep: str | None = None,
    ) -> None:
        """Replace the content; the cursor stays on the row keyed `keep` when it is there."""
        self.columns = tuple(columns)
        self.keys = [k for k, _ in rows]
        self.rows = [cells for _, cells in rows]
        self.widths = [
            max([cell_len(c.label)] + [cell_len(r[i][0]) for r in self.rows])
            for i, c in enumerate(self.columns)
        ]
        width = sum(w + 2 for w in self.widths)
        self.virtual_size = Size(width, len(self.rows) + 1)
        target = self.keys.index(keep) if keep is not None and keep in self.keys else 0
        self.set_reactive(QuickTable.cursor, min(target, max(len(self.rows) - 1, 0)))
        self.scroll_cursor_visible()
        self.refresh()
        if self.keys:
            self.post_message(self.Highlighted(self, self.keys[self.cursor]))

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def row(self, key: str) -> list[str]:
        return [text for text, _ in self.rows[self.keys.index(key)]]

    def column(self, key: str) -> list[str]:
        i = [c.key for c in self.columns].index(key)
        return [r[i][0] for r in self.rows]

    @property
    def cursor_key(self) -> str | None:
        return self.keys[self.cursor] if self.keys else None

    # ------------------------------------------------------------------ drawing

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"quick-table--{name}")

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            style = base + self._style("header")
            cells = [(c.label, "") for c in self.columns]
            return self._strip(cells, style, scroll_x, width)
        index = scroll_y + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, base)
        if index == self.cursor:
            style = base + self._style("cursor")
        elif index % 2:
            style = base + self._style("even")
        else:
            style = base
        return self._strip(self.rows[index], style, scroll_x, width, index == self.cursor)

    def _strip(
        self, cells: Sequence[Cell], style: Style, scroll_x: int, width: int, cursor: bool = False
    ) -> Strip:
        segments = []
        for col, w, (text, tone) in zip(self.columns, self.widths, cells, strict=False):
            fitted = set_cell_size(text, w)
            if col.right:
                fitted = set_cell_size(" " * (w - cell_len(text)) + text, w)
            cell_style = style
            if tone and not cursor:
                cell_style = style + self.get_component_rich_style(
                    f"quick-table--{tone}", partial=True
                )
            segments.append(Segment(f" {fitted} ", cell_style))
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, style)

    # ------------------------------------------------------------------ cursor

    def watch_cursor(self, old: int, new: int) -> None:
        self.scroll_cursor_visible()
        self.refresh()
        if self.keys and 0 <= new < len(self.keys):
            self.post_message(self.Highlighted(self, self.keys[new]))

    def scroll_cursor_visible(self) -> None:
        visible = max(self.size.height - 1, 1)
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False)

    def move_to(self, index: int) -> None:
        if self.rows:
            self.cursor = max(0, min(index, len(self.rows) - 1))

    def action_move(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(self.size.height - 2, 1))

    def action_jump(self, where: int) -> None:
        self.move_to(len(self.rows) - 1 if where < 0 else 0)

    def action_select(self) -> None:
        if self.keys:
            self.post_message(self.Selected(self, self.keys[self.cursor]))

    # ------------------------------------------------------------------ mouse

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = offset.x + self.scroll_offset.x
            for col, w in zip(self.columns, self.widths, strict=False):
                if x < w + 2:
                    self.post_message(self.HeaderClicked(self, col.key))
                    return
                x -= w + 2
            return
        index = self.scroll_offset.y + offset.y - 1
        if 0 <= index < len(self.rows):
            if index == self.cursor:
                self.action_select()
            else:
                self.cursor = index
