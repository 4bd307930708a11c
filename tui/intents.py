"""What a screen asks for that opens another screen.

Screens post these messages (they bubble up to the App) and never import one another;
the App alone maps each intent to the screen it pushes. Each intent carries the release
the user was looking at, so the new screen shows the same one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from cpudb.app.browse import ReleaseData


class Intent(Message):
    """The user asked for another screen, about `data`'s release."""

    def __init__(self, data: ReleaseData) -> None:
        super().__init__()
        self.data = data


class OpenModel(Intent):
    """Open one CPU name (Enter on the browse table or on a feature's holders)."""

    def __init__(self, data: ReleaseData, name: str) -> None:
        super().__init__(data)
        self.name = name


class OpenFeature(Intent):
    """Open one feature, by its QEMU name (Enter on a CPU name's features)."""

    def __init__(self, data: ReleaseData, name: str) -> None:
        super().__init__(data)
        self.name = name


class PickFeature(Intent):
    """Ask for a feature in any spelling, then open it (`f` on the browse screen)."""


class Compare(Intent):
    """Compare two CPU names; either may still be empty, to be typed (`c`, `p`)."""

    def __init__(self, data: ReleaseData, first: str | None, second: str | None = None) -> None:
        super().__init__(data)
        self.first = first
        self.second = second


class Advise(Intent):
    """The advisor, for the needs typed so far (`a`)."""

    def __init__(self, data: ReleaseData, needs: str = "") -> None:
        super().__init__(data)
        self.needs = needs
