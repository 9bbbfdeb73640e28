"""Scores from music21's bundled corpus (training-only extra `train`), converted once to MIDI in the cache.

The corpus is varied where our generator is not: Bach chorales, Palestrina and Monteverdi polyphony, Trecento
pieces, a few piano and trio-sonata pieces and hundreds of single-line folk tunes (Ryan's Mammoth
Collection) — the tunes become solo clips under random instruments. Scores carry few tempo marks, so each piece
gets a seeded tempo. The pieces used are a fixed, spaced selection per repertory; a piece is held out by a
hash of its name, so adding repertories never moves a piece between splits.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# repertory (corpus sub-directory) → how many pieces to take, evenly spaced through its sorted file list
REPERTORIES: dict[str, int] = {
    "bach": 100, "ryansMammoth": 150, "palestrina": 30, "monteverdi": 25, "trecento": 25,
    "corelli": 4, "schumann_clara": 4, "joplin": 1, "chopin": 1, "cpebach": 1,
}  # left out: string quartets (one Beethoven quartet took 100 s to parse, then failed) and multi-tune books
MAX_BYTES = 400_000  # skip the largest encodings: parsing them costs minutes
TEMPO_RANGE = (56, 170)  # seeded quarter-note BPM per piece
HELD_OUT_EVERY = 5
SUFFIXES = (".mxl", ".xml", ".musicxml", ".krn", ".abc", ".mid")


def piece_name(path: Path) -> str:
    corpus_root = Path(os.path.dirname(__import__("music21").__file__)) / "corpus"
    rel = path.relative_to(corpus_root) if path.is_relative_to(corpus_root) else Path(path.name)
    return str(rel.with_suffix("")).replace(os.sep, "-")


def is_held_out(name: str) -> bool:
    return zlib.crc32(name.encode()) % HELD_OUT_EVERY == 0


def selected_scores() -> list[Path]:
    """The fixed selection of corpus files (deterministic for a music21 release)."""
    from music21 import corpus

    by_rep: dict[str, list[Path]] = {}
    for p in corpus.getPaths():
        p = Path(p)
        rel_parts = p.parts[p.parts.index("corpus") + 1:] if "corpus" in p.parts else p.parts
        if p.suffix in SUFFIXES and p.stat().st_size <= MAX_BYTES and rel_parts and rel_parts[0] in REPERTORIES:
            by_rep.setdefault(rel_parts[0], []).append(p)
    out = []
    for rep, n in REPERTORIES.items():
        files = sorted(by_rep.get(rep, []))
        if files:
            step = max(len(files) / n, 1.0)
            out += [files[int(i * step)] for i in range(min(n, len(files)))]
    return out


def seeded_bpm(name: str) -> int:
    lo, hi = TEMPO_RANGE
    return lo + zlib.crc32(f"tempo-{name}".encode()) % (hi - lo)


def convert(path: Path, out: Path) -> Path | None:
    """Parse one score, replace its tempo marks by the seeded tempo, write MIDI atomically; None on failure."""
    from music21 import converter, stream, tempo

    try:
        score = converter.parse(str(path))
        if isinstance(score, stream.Opus):
            score = score.scores[0]
        for mark in list(score.recurse().getElementsByClass(tempo.MetronomeMark)):
            mark.activeSite.remove(mark)
        first = score.parts[0] if score.parts else score
        first.insert(0, tempo.MetronomeMark(number=seeded_bpm(piece_name(path))))
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".mid.tmp")
        os.close(fd)
        score.write("midi", fp=tmp)
        os.replace(tmp, out)
        return out
    except Exception:  # noqa: BLE001 — odd encodings exist; a piece that won't convert is simply not used
        return None


def _convert_job(args: tuple[Path, Path]) -> Path | None:
    path, out = args
    if out.exists():
        return out
    failed = out.with_suffix(".failed")
    if failed.exists():
        return None
    result = convert(path, out)
    if result is None:
        failed.parent.mkdir(parents=True, exist_ok=True)
        failed.touch()
    return result


def prepare(cache_dir: Path, workers: int = 2, progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """MIDI files of the selected scores under cache_dir/music21 (converted on first use); [] without music21."""
    try:
        selection = selected_scores()
    except ImportError:
        return []
    jobs = [(p, cache_dir / "music21" / f"{piece_name(p)}.mid") for p in selection]
    done = []
    with ProcessPoolExecutor(workers) as pool:
        for i, result in enumerate(pool.map(_convert_job, jobs, chunksize=4)):
            if result is not None:
                done.append(result)
            if progress:
                progress(i + 1, len(jobs))
    return sorted(done)
