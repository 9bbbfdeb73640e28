"""The demo's own library is derived data: after an upgrade changes the default encoder it is rebuilt, not refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from worker.cli.commands import run_job
from worker.cli.demo import rebuild_if_stale
from worker.cli.runner import LocalRunner
from worker.encoders.registry import get_encoder

SR = 22050


def _tones(folder: Path) -> Path:
    folder.mkdir()
    t = np.arange(int(6 * SR)) / SR
    for i, hz in enumerate((220.0, 330.0)):
        sf.write(folder / f"tone{i}.wav", (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32), SR)
    return folder


def test_a_demo_library_built_with_another_encoder_is_rebuilt_with_the_default(tmp_path: Path) -> None:
    music = _tones(tmp_path / "music")
    runner = LocalRunner(str(tmp_path / "demo-library"), "descriptor")
    run_job(runner, "index", {"paths": [str(music)]})
    stamped = run_job(runner, "status", {})["encoder"]
    default = get_encoder()
    assert stamped["id"] == "descriptor" != default.id  # the offline model ships in the package

    options = rebuild_if_stale(stamped)
    assert options == {"reindex": True, "encoder": default.id}
    report = run_job(runner, "index", {"paths": [str(music)], **options})
    assert report["indexed"] == 2 and report["encoder"] == default.id
    assert rebuild_if_stale(run_job(runner, "status", {})["encoder"]) == {}  # current now: left alone
    assert rebuild_if_stale(None) == {}
