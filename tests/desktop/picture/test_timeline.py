"""The timeline: time↔x mapping, beats drawn where the analysis says, the fit handle's emitted length, seeking,
the playhead property, and waveform decoding that leaves the event loop free."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QElapsedTimer, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent

from desktop.picture.timeline import END_PAD, TimelineView
from desktop.picture.timeline_paint import CLIP_FILL, DOWNBEAT

RATE = 8000
CUE_S = 12.0
BPM = 120.0
BEATS = [round(0.5 * i, 4) for i in range(int(CUE_S / 0.5))]
DOWNBEATS = BEATS[::4]
LOAD_TIMEOUT_MS = 20000
PROBE_MS = 10
MAX_STALL_MS = 100
LONG_WAV_MINUTES = 10


def write_wav(path: Path, seconds: float, rate: int = RATE, level: float = 0.0) -> str:
    wave = np.full(int(seconds * rate), level, np.float32)
    sf.write(str(path), wave, rate)
    return str(path)


@pytest.fixture
def timeline(qtbot) -> TimelineView:
    view = TimelineView()
    qtbot.addWidget(view)
    view.resize(1000, view.sizeHint().height())
    view.show()
    return view


@pytest.fixture
def with_cue(timeline, qtbot, tmp_path: Path) -> TimelineView:
    timeline.set_cue(write_wav(tmp_path / "silence.wav", CUE_S), start_s=2.0, title="Silence")
    timeline.set_analysis({"beats_s": BEATS, "downbeats_s": DOWNBEATS, "tempo_bpm": BPM})
    qtbot.waitUntil(timeline.waveform_loaded, timeout=LOAD_TIMEOUT_MS)
    return timeline


def mouse(view: TimelineView, kind: QMouseEvent.Type, x: float, y: float,
          modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    buttons = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
    event = QMouseEvent(kind, QPointF(x, y), QPointF(x, y), Qt.MouseButton.LeftButton, buttons, modifiers)
    {QMouseEvent.Type.MouseButtonPress: view.mousePressEvent, QMouseEvent.Type.MouseMove: view.mouseMoveEvent,
     QMouseEvent.Type.MouseButtonRelease: view.mouseReleaseEvent}[kind](event)


def drag(view: TimelineView, x0: float, x1: float, y: float, **kwargs) -> None:
    mouse(view, QMouseEvent.Type.MouseButtonPress, x0, y, **kwargs)
    mouse(view, QMouseEvent.Type.MouseMove, (x0 + x1) / 2, y, **kwargs)
    mouse(view, QMouseEvent.Type.MouseMove, x1, y, **kwargs)
    mouse(view, QMouseEvent.Type.MouseButtonRelease, x1, y, **kwargs)


def test_time_and_x_map_both_ways(with_cue: TimelineView) -> None:
    view = with_cue
    end = 2.0 + CUE_S
    assert view.content_duration() == pytest.approx(end * (1 + END_PAD))
    assert view.time_to_x(0.0) == view.content_left()
    assert view.time_to_x(view.content_duration()) == pytest.approx(view.content_left() + view.content_width())
    for t in (0.0, 1.25, 7.5, end):
        assert view.x_to_time(view.time_to_x(t)) == pytest.approx(t)
    assert view.time_to_x(7.0) - view.time_to_x(3.0) == pytest.approx(4.0 * view.px_per_s())
    clip = view.clip_rect()
    assert clip.left() == pytest.approx(view.time_to_x(2.0)) and clip.right() == pytest.approx(view.time_to_x(end))

    view.zoom, view.view_start = 4.0, 5.0  # zoomed in: the same mapping, shifted and scaled
    assert view.time_to_x(5.0) == view.content_left()
    assert view.px_per_s() == pytest.approx(4.0 * view.content_width() / view.content_duration())
    assert view.x_to_time(view.time_to_x(6.3)) == pytest.approx(6.3)


def test_beats_and_downbeats_are_drawn_at_their_times(with_cue: TimelineView) -> None:
    view = with_cue
    image = view.grab().toImage()
    clip = view.clip_rect()
    y = round(clip.bottom() - 6)
    fill = QColor(CLIP_FILL)

    def colour_near(t: float) -> QColor:
        """The pixel on the beat's column that differs most from the clip's fill (lines are antialiased)."""
        x = view.time_to_x(t)
        pixels = [image.pixelColor(round(x) + dx, y) for dx in (-1, 0, 1)]
        return max(pixels, key=lambda c: abs(c.red() - fill.red()) + abs(c.green() - fill.green()))

    downbeat = QColor(DOWNBEAT)
    for bar, t in enumerate(DOWNBEATS[1:], start=1):  # timeline time = start + file time
        c = colour_near(2.0 + t)
        assert abs(c.red() - downbeat.red()) < 40 and abs(c.blue() - downbeat.blue()) < 40, (bar, c.name())
    for t in BEATS:
        if t not in DOWNBEATS:
            c = colour_near(2.0 + t)
            assert c.red() < fill.red() - 30, (t, c.name())  # a visible line, lighter than a downbeat
            assert c.red() > downbeat.red() + 30
    for t in BEATS[:-1]:
        between = image.pixelColor(round(view.time_to_x(2.0 + t + 0.25)), y)
        assert abs(between.red() - fill.red()) < 12, (t, between.name())  # nothing between beats


def test_dragging_the_clip_end_requests_a_fit(with_cue: TimelineView, qtbot) -> None:
    view = with_cue
    clip = view.clip_rect()
    y = clip.center().y()
    with qtbot.waitSignal(view.fitRequested) as fit:
        drag(view, clip.right() - 2, view.time_to_x(2.0 + 8.25), y)
    assert fit.args[0] == pytest.approx(8.25, abs=0.5 / view.px_per_s())  # half a pixel
    assert view.fit_target_s == fit.args[0]

    view.set_scenes([(0.0, 9.0), (9.0, 20.0)])  # near a cut, the handle snaps to it …
    near_cut = view.time_to_x(9.0) + 4
    with qtbot.waitSignal(view.fitRequested) as fit:
        drag(view, view.clip_rect().right() - 2, near_cut, y)
    assert fit.args[0] == pytest.approx(9.0 - 2.0)
    with qtbot.waitSignal(view.fitRequested) as fit:  # … unless Alt is held
        drag(view, view.clip_rect().right() - 2, near_cut, y, modifiers=Qt.KeyboardModifier.AltModifier)
    assert fit.args[0] == pytest.approx(view.x_to_time(near_cut) - 2.0, abs=0.002)

    with qtbot.assertNotEmitted(view.fitRequested):  # a click on the clip's body seeks, it does not fit
        drag(view, clip.center().x(), clip.center().x(), y)


def test_clicking_seeks_and_the_playhead_follows_the_player(with_cue: TimelineView, qtbot) -> None:
    view = with_cue
    x = view.time_to_x(5.5)
    with qtbot.waitSignal(view.seekRequested) as seek:
        mouse(view, QMouseEvent.Type.MouseButtonPress, x, view.rows().picture.center().y())
        mouse(view, QMouseEvent.Type.MouseButtonRelease, x, view.rows().picture.center().y())
    assert seek.args[0] == pytest.approx(5.5, abs=1 / view.px_per_s())
    assert view.position == pytest.approx(seek.args[0])
    assert view.audio_time(seek.args[0]) == pytest.approx(seek.args[0] - 2.0)  # the cue starts at 2 s

    with qtbot.waitSignal(view.positionChanged) as moved:
        view.position = 3.0  # the Qt property the shell's player drives
    assert moved.args == [3.0] and view.property("position") == 3.0
    view.set_audio_position(1.5)  # seconds into the file → timeline seconds
    assert view.position == pytest.approx(3.5)


def test_a_still_lasts_as_long_as_the_cue(timeline: TimelineView, qtbot, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    still = tmp_path / "still.png"
    image = QImage(64, 36, QImage.Format.Format_RGB32)
    image.fill(0x3366CC)
    image.save(str(still))
    timeline.set_picture(str(still))
    qtbot.waitUntil(lambda: timeline.still is not None, timeout=LOAD_TIMEOUT_MS)
    timeline.set_cue(write_wav(tmp_path / "cue.wav", 6.0), start_s=1.0)
    qtbot.waitUntil(timeline.waveform_loaded, timeout=LOAD_TIMEOUT_MS)
    assert timeline.picture_length() == pytest.approx(7.0)
    grabbed = timeline.grab().toImage()
    row = timeline.rows().picture.center().y()
    inside = grabbed.pixelColor(round(timeline.time_to_x(3.0)), row)
    after = grabbed.pixelColor(round(timeline.time_to_x(7.2)), row)
    assert inside.blue() > 150 and inside.red() < 100  # the still (#3366cc) is drawn …
    assert after.red() > 150  # … and ends with the cue


def test_loading_a_long_waveform_leaves_the_event_loop_free(timeline: TimelineView, qtbot, tmp_path: Path) -> None:
    rate = 44100
    chunk = (np.random.default_rng(0).standard_normal(rate) * 3000).astype(np.int16)
    path = tmp_path / "long.wav"
    with sf.SoundFile(str(path), "w", rate, 1, "PCM_16") as f:
        for _ in range(LONG_WAV_MINUTES * 60):
            f.write(chunk)
    clock = QElapsedTimer()
    clock.start()
    gaps: list[int] = []
    last = [clock.elapsed()]

    def tick() -> None:  # counts only while loading: the one paint of the result afterwards is not loading
        now = clock.elapsed()
        if not timeline.waveform_loaded():
            gaps.append(now - last[0] - PROBE_MS)
        last[0] = now

    probe = QTimer(interval=PROBE_MS, timeout=tick)
    probe.start()
    started = time.perf_counter()
    timeline.set_cue(str(path), title="Ten minutes")
    qtbot.waitUntil(timeline.waveform_loaded, timeout=LOAD_TIMEOUT_MS)
    loaded_s = time.perf_counter() - started
    probe.stop()
    assert timeline.cue.envelope is not None and timeline.cue_length() == pytest.approx(LONG_WAV_MINUTES * 60)
    assert len(gaps) >= 3  # the probe kept ticking while the file loaded: loading never held the GUI thread
    assert max(gaps) < MAX_STALL_MS, f"event loop stalled {max(gaps)} ms while loading for {loaded_s:.2f} s"
    print(f"\nlong waveform: loaded in {loaded_s:.2f} s, largest event-loop gap {max(gaps)} ms")


def test_an_unreadable_cue_says_so(timeline: TimelineView, qtbot, tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF nonsense")
    timeline.set_cue(str(bad))
    qtbot.waitUntil(timeline.waveform_loaded, timeout=LOAD_TIMEOUT_MS)
    assert timeline.cue.error.startswith("Cannot read the audio")


def test_wheel_zooms_around_the_pointer_and_shift_scrolls(with_cue: TimelineView) -> None:
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent

    view = with_cue

    def wheel(x: float, dy: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        view.wheelEvent(QWheelEvent(QPointF(x, 20), QPointF(x, 20), QPoint(0, 0), QPoint(0, dy),
                                    Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False))

    x = view.time_to_x(9.0)
    wheel(x, 120)
    wheel(x, 120)
    assert view.zoom == pytest.approx(1.25**2)
    assert view.time_to_x(9.0) == pytest.approx(x, abs=0.01)  # the time under the pointer stays put
    start = view.view_start
    wheel(x, -120, Qt.KeyboardModifier.ShiftModifier)
    assert view.view_start > start and view.zoom == pytest.approx(1.25**2)
    for _ in range(10):
        wheel(x, -120)
    assert view.zoom == 1.0 and view.view_start == 0.0  # fully out: the whole timeline again


def test_in_point_shifts_the_clip_and_its_beats(timeline: TimelineView, qtbot, tmp_path: Path) -> None:
    timeline.set_cue(write_wav(tmp_path / "cue.wav", CUE_S), start_s=1.0, in_point_s=3.0)
    timeline.set_analysis({"beats_s": BEATS, "downbeats_s": DOWNBEATS})
    qtbot.waitUntil(timeline.waveform_loaded, timeout=LOAD_TIMEOUT_MS)
    assert timeline.cue_length() == pytest.approx(CUE_S - 3.0)
    assert timeline.timeline_time(4.0) == pytest.approx(2.0) and timeline.audio_time(2.0) == pytest.approx(4.0)
    image = timeline.grab().toImage()
    y = round(timeline.clip_rect().bottom() - 6)
    fill = QColor(CLIP_FILL)
    downbeat_x = round(timeline.time_to_x(2.0))  # the bar at 4.0 s into the file
    darkest = min((image.pixelColor(downbeat_x + dx, y) for dx in (-1, 0, 1)), key=lambda c: c.red())
    assert darkest.red() < fill.red() - 100
    assert timeline.clip_rect().left() == pytest.approx(timeline.time_to_x(1.0))


def test_a_newer_cue_wins_over_a_slower_older_one(timeline: TimelineView, qtbot, tmp_path: Path) -> None:
    timeline.set_cue(write_wav(tmp_path / "long.wav", 240.0))
    timeline.set_cue(write_wav(tmp_path / "short.wav", 3.0))
    qtbot.waitUntil(timeline.waveform_loaded, timeout=LOAD_TIMEOUT_MS)
    qtbot.wait(300)  # let the older load finish too: its reply must be dropped
    assert timeline.cue.path.endswith("short.wav") and timeline.cue_length() == pytest.approx(3.0)


def test_double_clicking_the_handle_fits_the_cue_to_the_picture(with_cue: TimelineView, qtbot) -> None:
    view = with_cue
    view.picture_kind, view.picture_duration_s = "video", 9.5  # as set_picture sets them once the video is probed
    clip = view.clip_rect()
    event = QMouseEvent(QMouseEvent.Type.MouseButtonDblClick, QPointF(clip.right() - 2, clip.center().y()),
                        QPointF(clip.right() - 2, clip.center().y()), Qt.MouseButton.LeftButton,
                        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(view.fitRequested) as fit:
        view.mouseDoubleClickEvent(event)
    assert fit.args == [pytest.approx(9.5 - 2.0)]


def test_a_video_is_drawn_as_its_shots(timeline: TimelineView, qtbot, tmp_path: Path) -> None:
    from tests.desktop.picture.media import make_video

    video = make_video(tmp_path / "shots.mp4", [("#c03020", 2.0), ("#20a040", 2.0), ("#2040c0", 2.0)], bframes=2)
    timeline.set_picture(str(video))
    timeline.set_scenes([(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)])
    qtbot.waitUntil(lambda: bool(timeline.strip), timeout=LOAD_TIMEOUT_MS)
    assert timeline.picture_length() == pytest.approx(6.0, abs=0.05)
    image = timeline.grab().toImage()
    y = timeline.rows().picture.center().y()
    for start, channel in ((0.0, "red"), (2.0, "green"), (4.0, "blue")):  # each shot's tiles show that shot,
        for t in np.arange(start + 0.05, start + 2.0, 0.1):  # right up to its cut
            x = timeline.time_to_x(float(t))
            if min(abs(x - timeline.time_to_x(c)) for c in (2.0, 4.0)) > 4:  # off the drawn cut lines
                colour = image.pixelColor(round(x), y)  # dominant channel (tile separators darken, not tint)
                rgb = {"red": colour.red(), "green": colour.green(), "blue": colour.blue()}
                others = [v for k, v in rgb.items() if k != channel]
                assert rgb[channel] > 2 * max(others), (round(float(t), 2), colour.name())


def test_markers_are_added_and_removed_by_hand(with_cue: TimelineView, qtbot) -> None:
    from PySide6.QtTest import QTest

    view = with_cue
    view.set_markers([(4.0, "hit")])
    row_y = view.rows().markers.center().y()
    x = view.time_to_x(7.5)
    event = QMouseEvent(QMouseEvent.Type.MouseButtonDblClick, QPointF(x, row_y), QPointF(x, row_y),
                        Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(view.markersChanged) as changed:
        view.mouseDoubleClickEvent(event)
    assert [t for t, _ in changed.args[0]] == [4.0, pytest.approx(7.5, abs=1 / view.px_per_s())]
    view.position = 10.0
    with qtbot.waitSignal(view.markersChanged) as changed:
        QTest.keyClick(view, Qt.Key.Key_M)
    assert changed.args[0][-1] == (10.0, "M3")

    hit_x = view.time_to_x(4.0) + 2
    with qtbot.waitSignal(view.markersChanged) as changed:
        view.mousePressEvent(QMouseEvent(QMouseEvent.Type.MouseButtonPress, QPointF(hit_x, row_y),
                                         QPointF(hit_x, row_y), Qt.MouseButton.RightButton,
                                         Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier))
    assert [label for _, label in changed.args[0]] == ["M2", "M3"]

    clip = view.clip_rect()  # a hand-made marker is a snap point for the fit handle
    with qtbot.waitSignal(view.fitRequested) as fit:
        drag(view, clip.right() - 2, view.time_to_x(10.0) + 3, clip.center().y())
    assert fit.args[0] == pytest.approx(10.0 - 2.0)


def test_a_tile_shows_a_frame_of_its_own_shot() -> None:
    from desktop.picture.timeline_paint import tile_frame

    times = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    assert tile_frame(times, (0.0, 2.0), 1.9) == 3  # not the frame at 2.0: that is the next shot's first
    assert tile_frame(times, (2.0, 3.0), 2.1) == 4
    assert tile_frame(times, (2.6, 2.9), 2.7) == 5  # no frame inside the shot: the nearest overall
