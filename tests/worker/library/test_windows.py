from __future__ import annotations

import numpy as np

from worker.library.windows import windows


def _blocks(x: np.ndarray, size: int):
    return (x[i : i + size] for i in range(0, len(x), size))


def test_windows_hop_and_end_aligned_tail() -> None:
    sr = 10
    x = np.arange(237, dtype=np.float32)
    got = [(w.start_s, w.end_s, w.samples[0], w.samples[-1]) for w in windows(_blocks(x, 33), sr, 10, 5)]
    assert got == [(0.0, 10.0, 0, 99), (5.0, 15.0, 50, 149), (10.0, 20.0, 100, 199), (13.7, 23.7, 137, 236)]


def test_block_size_does_not_change_the_windows() -> None:
    x = np.random.default_rng(0).standard_normal(1234).astype(np.float32)
    a = [w.samples for w in windows(_blocks(x, 7), 10, 10, 5)]
    b = [w.samples for w in windows(_blocks(x, 500), 10, 10, 5)]
    assert len(a) == len(b) and all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))


def test_short_track_is_one_window_of_its_own_length() -> None:
    got = list(windows(_blocks(np.ones(42, np.float32), 5), 10, 10, 5))
    assert len(got) == 1 and got[0].end_s == 4.2 and len(got[0].samples) == 42


def test_exact_multiple_has_no_extra_tail() -> None:
    got = list(windows(_blocks(np.ones(200, np.float32), 64), 10, 10, 5))
    assert [(w.start_s, w.end_s) for w in got] == [(0.0, 10.0), (5.0, 15.0), (10.0, 20.0)]


def test_plan_gives_the_same_ranges_as_windows_for_any_blocking() -> None:
    from worker.library.windows import WindowPlan

    rng = np.random.default_rng(1)
    for length in (42, 100, 199, 200, 237, 1234):
        x = np.arange(length, dtype=np.float32)
        expected = [(int(w.samples[0]), int(w.samples[-1]) + 1) for w in windows(_blocks(x, 64), 10, 10, 5)]
        plan, total, got = WindowPlan(10, 10, 5), 0, []
        while total < length:
            total = min(length, total + int(rng.integers(1, 90)))
            got += plan.ready(total)
        got += plan.finish(total)
        assert got == expected
