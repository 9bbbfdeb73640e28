"""The worker status indicator: a coloured dot and "CPU · clap · 1,234 tracks", or what is wrong."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

from desktop import theme

STATE_COLOURS = {"ready": theme.OK, "starting": "#d68910", "lost": theme.ERROR_FG, "stopped": theme.NEUTRAL}


def status_text(status: dict[str, Any]) -> str:
    encoder = status.get("encoder") or {}
    tracks = int(status.get("tracks", 0))
    parts = [str(status.get("device", "?")).upper(), encoder.get("id", "no encoder yet"),
             f"{tracks:,} track{'s' if tracks != 1 else ''}"]
    if status.get("errors"):
        parts.append(f"{status['errors']:,} unreadable")
    return " · ".join(parts)


class StatusIndicator(QLabel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = "stopped"
        self.detail = "no worker"
        self.set_state("stopped", "no worker")

    def set_state(self, state: str, detail: str) -> None:
        self.state, self.detail = state, detail
        colour = STATE_COLOURS.get(state, theme.NEUTRAL)
        self.setText(f"<span style='color:{colour}; font-size:large'>●</span> {detail}")
        self.setToolTip(f"worker: {state}")

    def set_status(self, status: dict[str, Any]) -> None:
        self.set_state("ready", status_text(status))
