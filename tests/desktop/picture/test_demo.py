"""The screenshot script renders every picture widget with its media loaded (it is what docs/screenshots show)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage

from desktop.picture.demo import TIMELINE_WIDTH, render

EXPECTED = ("picture-drop-zone", "picture-timeline", "picture-timeline-fit", "picture-timeline-still")


def test_demo_renders_each_widget(qapp, tmp_path: Path) -> None:
    written = render(tmp_path / "shots", tmp_path / "work", "")
    assert [p.stem for p in written] == list(EXPECTED)
    for path in written:
        image = QImage(str(path))
        assert not image.isNull() and image.width() >= 300
        colours = {image.pixel(x, y) for x in range(0, image.width(), 17) for y in range(0, image.height(), 7)}
        assert len(colours) > 20, path.name  # pictures, waveform and text, not an empty frame
    assert QImage(str(written[1])).width() == TIMELINE_WIDTH
