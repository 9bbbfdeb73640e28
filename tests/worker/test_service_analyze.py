"""`Service.analyze` caches per library track, and an analysis from another analyzer version is recomputed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.media import clicks, tone, write
from worker.analysis.api import current_analyzer
from worker.jobs import Job
from worker.service import Service


def test_cached_analysis_is_reused_until_the_analyzer_changes(tmp_path: Path) -> None:
    song = write(tmp_path / "music" / "song.wav", tone(12.0, 22050, 220.0) + clicks(12.0, 100))
    service = Service(tmp_path / "library", encoder="descriptor")
    service.index(job=Job(), paths=[str(song.parent)])
    first = service.analyze(job=Job(), path=str(song))
    assert first["analyzer"] == current_analyzer() and abs(first["tempo_bpm"] - 100) < 3

    def tamper(**fields: object) -> None:
        with service.library.transaction() as tx:
            tx.execute("UPDATE analysis SET json = ?", (json.dumps({**first, **fields}),))

    tamper(tempo_bpm=1.0)
    assert service.analyze(job=Job(), path=str(song))["tempo_bpm"] == 1.0  # served from the catalogue
    tamper(tempo_bpm=1.0, analyzer="dsp-0")
    again = service.analyze(job=Job(), path=str(song))
    assert again["analyzer"] == current_analyzer() and again["tempo_bpm"] == first["tempo_bpm"]
