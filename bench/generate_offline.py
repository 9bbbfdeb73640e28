"""Benchmark of the offline symbolic generator (issue 7): speed, steering toward seeds, phrases honoured.

1. Throughput: seconds of finished audio (all stems + mix written as 24-bit WAVs, MIDI, sidecar) per
   wall-clock second, full pipeline (candidates, previews, embedding, choice, stems), on this machine.
2. Steering: seeds are the active encoder's embedding of a 10-s window of a real recording (the local corpus,
   `/work/shared/corpus/fetch.sh`) or, without a corpus, of an independent arrangement. We report the chosen
   candidate's mean cosine similarity to the seeds next to a randomly drawn candidate's (the peer: what an
   unsteered generator would give) and how often the chosen one is nearer.
3. Phrases: for each of "+ solo piano", "- drums", "fast", "slow", ≥ 50 prompts (the phrase plus a random
   context phrase, random seed); the share whose final MIDI honours the phrase, next to the share for the same
   prompts without the phrase (the peer), and how many contexts contradict the phrase ("fast" + "calm": equal
   weight and specificity, so the later phrase, the context, wins).

    python bench/generate_offline.py [--prompts 50] [--cues 3] [--seconds 30] [--encoder NAME]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import mido
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker.encoders.base import Encoder, unit  # noqa: E402
from worker.encoders.registry import get_encoder  # noqa: E402
from worker.generate.api import generate_cue, write_cue  # noqa: E402
from worker.generate.base import GenerateRequest, as_phrases  # noqa: E402
from worker.generate.symbolic.directives import constraints_from  # noqa: E402
from worker.generate.symbolic.generator import SymbolicGenerator, candidate_plans, preview_arrangement  # noqa: E402
from worker.generate.symbolic.midi import DRUM_CHANNEL, previews_to_midi, to_midi  # noqa: E402
from worker.generate.symbolic.render import render  # noqa: E402
from worker.settings import corpus_dir  # noqa: E402

CONTEXTS = ("rock", "electronic", "jazz", "cinematic", "ambient", "folk", "pop", "hip hop", "waltz", "dark",
            "happy", "epic orchestral", "warm acoustic guitar", "lofi beat", "busy", "sparse", "", "strings",
            "energetic drums", "calm")
PHRASES = ("+solo piano", "-drums", "fast", "slow")
FAST_MIN_BPM = 120.0
SLOW_MAX_BPM = 84.0
SEED_WINDOW_SECONDS = 10.0
PHRASE_SECONDS = 20.0


def honours(phrase: str, midi: mido.MidiFile) -> bool:
    """Whether the MIDI does what the phrase says (judged from the file alone)."""
    notes = [m for track in midi.tracks for m in track if m.type == "note_on" and m.velocity > 0]
    drums = any(m.channel == DRUM_CHANNEL for m in notes)
    tempo = 60e6 / next(m.tempo for m in midi.tracks[0] if m.type == "set_tempo")
    if phrase == "+solo piano":
        programs = {m.program for track in midi.tracks for m in track if m.type == "program_change"}
        return not drums and bool(programs) and programs <= set(range(8))
    if phrase == "-drums":
        return not drums
    if phrase == "fast":
        return tempo >= FAST_MIN_BPM
    if phrase == "slow":
        return tempo <= SLOW_MAX_BPM
    raise ValueError(phrase)


def contradicted(phrase: str, context: str) -> bool:
    """Whether the context phrase on its own asks for the opposite (e.g. "fast" with "calm")."""
    found = constraints_from(as_phrases([context])) if context else None
    if found is None:
        return False
    if phrase == "+solo piano":
        return bool(found.solo) or found.drums is True
    if phrase == "-drums":
        return found.drums is True
    if phrase == "fast":
        return found.tempo is not None and found.tempo[0] < FAST_MIN_BPM
    return found.tempo is not None and found.tempo[1] > SLOW_MAX_BPM


def phrase_shares(prompts: int, rng: np.random.Generator) -> None:
    composer = SymbolicGenerator(encoder=None)
    print(f"\n3. phrases honoured by the final MIDI ({prompts} prompts each; context = a random phrase)")
    print(f"   {'phrase':<13} {'with phrase':>11} {'without (peer)':>15} {'contradicting context':>22}")
    for phrase in PHRASES:
        hits = peers = conflicts = 0
        for _ in range(prompts):
            context = str(rng.choice(CONTEXTS))
            seed = int(rng.integers(1 << 31))
            conflicts += contradicted(phrase, context)
            with_phrase = [phrase] + ([context] if context else [])
            for phrases, counter in ((with_phrase, "hit"), ([context] if context else [], "peer")):
                request = GenerateRequest(seconds=PHRASE_SECONDS, seed=seed, phrases=as_phrases(phrases))
                ok = honours(phrase, to_midi(composer.compose(request).arrangement))
                hits += ok and counter == "hit"
                peers += ok and counter == "peer"
        print(f"   {phrase:<13} {hits / prompts:>11.0%} {peers / prompts:>15.0%} {conflicts:>22d}")


def corpus_seeds(encoder: Encoder, count: int, rng: np.random.Generator) -> list[np.ndarray] | None:
    """`count` seed vectors, each the embedding of a 10-s window of a real recording (None: no corpus)."""
    from worker.library.decode import DecodeError, decode_mono

    manifest = corpus_dir() / "manifest.csv"
    if not manifest.is_file():
        return None
    with manifest.open() as handle:
        tracks = [row["path"] for row in csv.DictReader(handle) if row["kind"] == "audio"]
    if not tracks:
        return None
    seeds: list[np.ndarray] = []
    for path in rng.permutation(tracks):
        if len(seeds) == count:
            break
        try:
            wave = decode_mono(path, encoder.sample_rate, max_seconds=90.0)
        except DecodeError:
            continue
        window = int(SEED_WINDOW_SECONDS * encoder.sample_rate)
        if len(wave) < window:
            continue
        start = int(rng.integers(0, len(wave) - window + 1))
        seeds.append(encoder.embed_audio([wave[start : start + window]])[0])
    return seeds if len(seeds) == count else None


def rendered_seeds(encoder: Encoder, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Fallback seeds: embeddings of arrangements drawn independently of the generator's candidates."""
    request = GenerateRequest(seconds=10.0, seed=int(rng.integers(1 << 31)))
    previews = [preview_arrangement(p, SEED_WINDOW_SECONDS) for p in candidate_plans(request, count)]
    midi, starts = previews_to_midi(previews, 1.5)
    audio = render(midi, sample_rate=encoder.sample_rate).mean(axis=1)
    return [encoder.embed_audio([audio[int(s * encoder.sample_rate):int((s + a.seconds) * encoder.sample_rate)]])[0]
            for a, s in zip(previews, starts, strict=True)]


def steering(encoder: Encoder, prompts: int, rng: np.random.Generator) -> None:
    seeds = corpus_seeds(encoder, prompts, rng)
    source = "10-s windows of real recordings from the corpus"
    if seeds is None:
        seeds, source = rendered_seeds(encoder, prompts, rng), "independent arrangements (no corpus found)"
    generator = SymbolicGenerator(encoder=encoder)
    chosen, randoms, means, wins = [], [], [], 0
    started = time.perf_counter()
    for vector in seeds:
        context = str(rng.choice(CONTEXTS))
        request = GenerateRequest(seconds=20.0, seed=int(rng.integers(1 << 31)), seeds=unit(vector[None]),
                                  phrases=as_phrases([context] if context else []))
        composition = generator.compose(request)
        scores = composition.seed_similarity  # cosine to the seeds alone: the choice also weighs the phrase
        assert scores is not None
        pick = scores[composition.chosen]
        other = scores[int(rng.integers(len(scores)))]
        chosen.append(pick)
        randoms.append(other)
        means.append(scores.mean())
        wins += pick > other
    elapsed = time.perf_counter() - started
    print(f"\n2. steering toward seeds ({len(seeds)} prompts, {generator.candidates} candidates each)")
    print(f"   seeds = {source}")
    print(f"   cosine(chosen, seeds)            mean {np.mean(chosen):.3f}  median {np.median(chosen):.3f}")
    print(f"   cosine(random candidate, seeds)  mean {np.mean(randoms):.3f}  median {np.median(randoms):.3f}  (peer)")
    print(f"   cosine(all candidates' mean)     mean {np.mean(means):.3f}")
    print(f"   chosen nearer than the random one: {wins / len(seeds):.0%} (ties count as not nearer)")
    print(f"   choice time: {elapsed / len(seeds):.2f} s per prompt (previews rendered + embedded)")


def throughput(encoder: Encoder, cues: int, seconds: float, rng: np.random.Generator) -> None:
    audio_seconds = 0.0
    stems = 0
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        for i in range(cues):
            seeds = unit(rng.normal(size=(4, encoder.dim)))
            cue = generate_cue("symbolic", encoder=encoder, seeds=seeds, phrases=[str(rng.choice(CONTEXTS))],
                               seconds=seconds, seed=i)
            write_cue(cue, folder, name=f"cue{i}")
            audio_seconds += cue.seconds
            stems += len(cue.stems)
        elapsed = time.perf_counter() - started
    print(f"1. throughput: {cues} cues × {seconds:.0f} s, {stems} stems in all, written as 24-bit WAV + MIDI")
    print(f"   {audio_seconds:.0f} s of finished audio in {elapsed:.1f} s wall clock = "
          f"{audio_seconds / elapsed:.2f} s of audio per second "
          f"({audio_seconds * (1 + stems / cues) / elapsed:.1f} s/s counting every stem file)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=50)
    parser.add_argument("--cues", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--encoder", default=None, help="encoder name (default: the product's default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    encoder = get_encoder(args.encoder)
    print(f"encoder: {encoder.id}@{encoder.version} ({encoder.dim}-d)")
    throughput(encoder, args.cues, args.seconds, rng)
    steering(encoder, args.prompts, rng)
    phrase_shares(args.prompts, rng)


if __name__ == "__main__":
    main()
