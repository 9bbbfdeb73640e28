"""The picture drop zone: dropped files become the right still paths; refused files say so; a video's scenes
become checked frame picks that can be unchecked, removed and added to by scrubbing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage

from desktop.picture.drop_zone import PictureDropZone
from desktop.picture.scenes import SAMPLE_FPS
from tests.desktop.picture.media import make_video

SIGNAL_TIMEOUT_MS = 20000
SCENES = [("#c03020", 1.6), ("noise", 1.6), ("#2040c0", 1.6)]  # whole frames at 25 fps
CUTS = [1.6, 3.2]


def write_image(path: Path, colour: int = 0xFF8040) -> str:
    image = QImage(120, 80, QImage.Format.Format_RGB32)
    image.fill(colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert image.save(str(path))
    return str(path)


def drop(widget, paths: list[str]) -> None:
    """What a file manager's drop delivers (QApplication refuses a synthesised Drop without a drag session, so
    the handlers are called as Qt would: enter, then drop)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
    position = QPointF(10, 10)
    enter = QDragEnterEvent(position.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    widget.dragEnterEvent(enter)
    assert enter.isAccepted()
    event = QDropEvent(position, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)
    assert event.isAccepted()


@pytest.fixture
def zone(qtbot) -> PictureDropZone:
    widget = PictureDropZone()
    qtbot.addWidget(widget)
    widget.resize(380, 360)
    widget.show()
    return widget


def test_dropping_images_emits_their_paths_in_order(zone, qtbot, tmp_path: Path) -> None:
    a, b = write_image(tmp_path / "a.png"), write_image(tmp_path / "b.jpg", 0x2040C0)
    with qtbot.waitSignal(zone.images_changed) as emitted, qtbot.waitSignal(zone.picture_changed) as picture:
        drop(zone, [a, b])
    assert emitted.args == [[a, b]]
    assert picture.args == [a]
    assert zone.images == [a, b]
    assert not zone.message.isVisible()
    qtbot.waitUntil(lambda: not zone.thumbs.item(1).icon().isNull())  # thumbnails arrive from the thread pool


def test_set_images_is_the_shell_side_of_the_same_state(zone, qtbot, tmp_path: Path) -> None:
    a = write_image(tmp_path / "a.png")
    with qtbot.waitSignal(zone.images_changed):
        zone.set_images([a])
    with qtbot.assertNotEmitted(zone.images_changed):
        zone.set_images([a])  # unchanged: no echo back to the shell
    with qtbot.waitSignal(zone.images_changed) as emitted, qtbot.waitSignal(zone.picture_changed) as picture:
        zone.set_images([])
    assert emitted.args == [[]] and picture.args == [""] and zone.hint.text().startswith("Drop")


def test_unsupported_files_are_refused_with_a_visible_message(zone, qtbot, tmp_path: Path) -> None:
    image = write_image(tmp_path / "keep.png")
    zone.set_paths([image])
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with qtbot.assertNotEmitted(zone.images_changed):
        drop(zone, [str(notes)])
    assert zone.message.isVisible() and "notes.txt" in zone.message.text()
    assert zone.images == [image]  # a refused drop leaves the picture alone
    with qtbot.waitSignal(zone.images_changed) as emitted:
        drop(zone, [str(notes), write_image(tmp_path / "new.png")])  # mixed: use what we can, name the rest
    assert emitted.args == [[str(tmp_path / "new.png")]]
    assert "notes.txt" in zone.message.text()


def test_a_video_yields_one_checked_frame_per_scene(zone, qtbot, tmp_path: Path) -> None:
    video = str(make_video(tmp_path / "clip.mp4", SCENES))
    image = write_image(tmp_path / "still.png")
    with qtbot.waitSignal(zone.scenes_changed, timeout=SIGNAL_TIMEOUT_MS) as scenes:
        drop(zone, [image, video])
    boundaries = scenes.args[0]
    assert np.allclose([start for start, _ in boundaries[1:]], CUTS, atol=1 / SAMPLE_FPS)
    frames = zone.images[1:]
    assert zone.images[0] == image and len(frames) == len(SCENES)
    assert all(Path(p).suffix == ".png" and Path(p).is_file() for p in frames)
    colours = [QImage(p).pixelColor(5, 5) for p in (frames[0], frames[2])]
    assert colours[0].red() > 150 and colours[1].blue() > 150  # the red first scene, the blue last one

    picker = zone.picker
    with qtbot.waitSignal(zone.images_changed) as emitted:
        picker.picks.item(1).setCheckState(Qt.CheckState.Unchecked)  # not the noise scene
    assert emitted.args == [[image, frames[0], frames[2]]]

    picker.seek(4.2)
    with qtbot.waitSignal(zone.images_changed, timeout=SIGNAL_TIMEOUT_MS) as emitted:
        picker.add_current_frame()
    added = [p for p in emitted.args[0] if p not in frames]
    assert len(added) == 2 and added[0] == image and "00004200ms" in added[1]
    assert emitted.args[0][-1] == added[1]  # picks stay in time order

    picker.picks.setCurrentRow(2)
    assert picker.current_time() == pytest.approx(picker.pick_times()[2], abs=0.1)  # a pick shows under the slider
    picker.picks.setCurrentRow(0)
    with qtbot.waitSignal(zone.images_changed) as emitted:
        picker.remove_selected()
    assert frames[0] not in emitted.args[0]


def test_an_unreadable_video_is_reported_in_the_picker(zone, qtbot, tmp_path: Path) -> None:
    bogus = tmp_path / "broken.mov"
    bogus.write_bytes(b"\x00" * 64)
    with qtbot.waitSignal(zone.picker.busy_changed, check_params_cb=lambda busy: not busy,
                          timeout=SIGNAL_TIMEOUT_MS):
        drop(zone, [str(bogus)])
    assert "Cannot read this video" in zone.picker.status.text()
    assert zone.images == []
