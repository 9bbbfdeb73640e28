"""The in-process API: every job the product can do is one method here.

The CLI calls these directly (or through `--connect`), the ZeroMQ server exposes them to the desktop app.
Each method takes keyword parameters that travel over msgpack, a `Job` for progress and cancel, and returns a
JSON-able dict. `LANES` says which methods are heavy (queued behind each other) and which are interactive.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from worker import settings
from worker.encoders.base import Encoder, EncoderError
from worker.encoders.registry import get_encoder
from worker.jobs import Job, JobFailed
from worker.library.catalogue import Library, LibraryError
from worker.library.decode import DecodeError, decode_mono
from worker.library.indexer import index_folders
from worker.library.lock import LibraryBusy, WriteLock
from worker.retrieval.diversity import diversity_report, result_label
from worker.retrieval.searcher import Hit, Searcher
from worker.retrieval.steering import Phrase, SteerError, phrases_from

HEAVY = "heavy"
INTERACTIVE = "interactive"
BACKGROUND = "background"  # runs until cancelled: its own thread, so neither searches nor indexing wait on it
DEFAULT_K = 10
DEFAULT_SEEDS = 16
MODES = ("prior", "regression", "query")
# A user weight of ±1 becomes this steering strength kₙ (the paper's human study used 0.06–0.08 per phrase).
STEER_PER_WEIGHT = 0.07
QUERY_STEER = 0.07  # the query itself steers an unconditional prior like a +1 phrase …
QUERY_SLERP = 0.55  # … and the finished seeds are pulled this far toward it (paper: 0.55)
NEGATIVE_DEMOTION = 4.0  # how hard a result close to a negative phrase is pushed down


class Service:
    LANES: dict[str, str] = {
        "status": INTERACTIVE,
        "search": INTERACTIVE,
        "embed": INTERACTIVE,
        "index": HEAVY,
        "watch": BACKGROUND,
        "train_prior": HEAVY,
        "analyze": INTERACTIVE,
        "export": HEAVY,
        "generate": HEAVY,
        "models": INTERACTIVE,
        "pull_model": HEAVY,
    }

    def __init__(self, library_dir: str | os.PathLike[str] | None = None, encoder: str | None = None, *,
                 hold_write_lock: bool = False):
        self.library_dir = settings.library_dir(library_dir)
        self.encoder_name = encoder
        self._library: Library | None = None
        self._searcher: Searcher | None = None
        self._lock = WriteLock(self.library_dir)
        self._write_mutex = threading.RLock()  # one writing job at a time in this process (lanes run in parallel)
        if hold_write_lock:
            self._lock.acquire()

    # -- plumbing -----------------------------------------------------------------------------------
    @property
    def library(self) -> Library:
        if self._library is None:
            self._library = Library(self.library_dir)
        return self._library

    @property
    def searcher(self) -> Searcher:
        if self._searcher is None:
            self._searcher = Searcher(self.library)
        return self._searcher

    def close(self) -> None:
        if self._library is not None:
            self._library.close()
        self._lock.release()

    @contextlib.contextmanager
    def _write_access(self, wait: bool = True) -> Iterator[None]:
        """This process's one writing job at a time, holding the library's write lock (unless held already).
        Raises LibraryBusy when another process writes the library, or (wait=False) another job here does."""
        if not self._write_mutex.acquire(blocking=wait):
            raise LibraryBusy("another job is writing the library")
        try:
            if self._lock.held:
                yield
                return
            self._lock.acquire()
            try:
                yield
            finally:
                self._lock.release()
        finally:
            self._write_mutex.release()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """`_write_access` for a job: another process writing the library fails the job with its message."""
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(self._write_access())
            except LibraryBusy as exc:
                raise JobFailed(str(exc)) from exc
            yield

    def _query_encoder(self) -> Encoder:
        """The encoder the library's vectors were made with: queries must land in the same space."""
        stamped = self.library.encoder
        if stamped is None:
            raise JobFailed(f"the library at {self.library_dir} is empty: run `cuesteer index PATH` first")
        encoder = get_encoder(stamped[0])
        if encoder.version != stamped[1]:
            raise JobFailed(
                f"the library was indexed with {stamped[0]} {stamped[1]} but this build has {encoder.version}; "
                f"re-index with `cuesteer index PATH --reindex`"
            )
        return encoder

    # -- jobs -----------------------------------------------------------------------------------------
    def status(self, *, job: Job) -> dict:
        counts = self.library.counts()
        stamped = self.library.encoder
        return {
            "library": str(self.library_dir),
            "tracks": counts.get("ok", 0),
            "errors": counts.get("error", 0),
            "duplicates": counts.get("duplicate", 0),
            "vectors": counts.get("vectors", 0),
            "encoder": {"id": stamped[0], "version": stamped[1]} if stamped else None,
            "generation": self.library.generation,
            "device": _device(),
        }

    def watch(self, *, job: Job, paths: list[str], encoder: str | None = None, interval_s: float | None = None) -> dict:
        """Keep the library up to date with `paths` until the job is cancelled (it ends as cancelled): new, changed,
        moved and deleted files are indexed as they settle (worker/library/watch.py); progress says what changed.
        While another job writes the library, a change waits for the next poll."""
        from worker.library import watch as watching

        stamped = self.library.encoder
        try:
            chosen = get_encoder(encoder or self.encoder_name or (stamped[0] if stamped else None))
        except EncoderError as exc:
            raise JobFailed(str(exc)) from exc

        def index(unsettled: watching.Unsettled) -> watching.IndexReport:
            with self._write_access(wait=False):  # LibraryBusy: the watch tries again at its next poll
                try:
                    return index_folders(self.library, chosen, paths, job=job, unsettled=unsettled)
                except (LibraryError, EncoderError) as exc:
                    raise JobFailed(str(exc)) from exc

        interval = watching.POLL_INTERVAL_S if interval_s is None else float(interval_s)
        watching.watch(paths, index, job=job, interval_s=interval, busy=LibraryBusy)

    def index(self, *, job: Job, paths: list[str], reindex: bool = False, encoder: str | None = None) -> dict:
        name = encoder or self.encoder_name
        with self._writing():
            try:
                if reindex:
                    self.library.clear_vectors()
                stamped = self.library.encoder
                chosen = get_encoder(name or (stamped[0] if stamped else None))
                report = index_folders(self.library, chosen, paths, job=job)
            except (LibraryError, EncoderError) as exc:
                raise JobFailed(str(exc)) from exc
        out = report.to_dict()
        out["encoder"] = chosen.id
        return out

    def search(self, *, job: Job, text: str | None = None, like: str | None = None, like_at: float | None = None,
               images: list[str] | None = None, steer: list | None = None, k: int = DEFAULT_K,
               seeds: int = DEFAULT_SEEDS, mode: str | None = None, seed: int | None = None,
               guidance: float | None = None, video: str | None = None, video_range: list | None = None,
               pool: str = "attention", split: bool = True) -> dict:
        """Query → (seeds from the prior | one regression vector | the query itself) → kNN → merged results.
        A `video` (optionally `video_range` [start, end] s) is split into cues at scene changes, one search each."""
        if video:
            return self._search_video(job, video=video, video_range=video_range, pool=pool, split=split, text=text,
                                      steer=steer, k=k, seeds=seeds, mode=mode, seed=seed, guidance=guidance)
        try:
            phrases = phrases_from(steer or [])
        except SteerError as exc:
            raise JobFailed(str(exc)) from exc
        if not (text or like or images or phrases):
            raise JobFailed("nothing to search for: give --text, --like, --image or --steer")
        mode = mode or ("prior" if (phrases or images or text) else "query")
        if mode not in MODES:
            raise JobFailed(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        seed = int(seed) if seed is not None else int(np.random.default_rng().integers(0, 2**31 - 1))
        from worker.retrieval import conditional

        try:
            encoder = self._query_encoder()
            # Pictures condition the conditional prior (CFG) or the regressor in their own space when there is one.
            by_image = conditional.image_prior(self.library, encoder, images) if mode == "prior" else None
            # A text query conditions the conditional prior when one is trained (else it steers the unconditional one).
            by_text = (conditional.text_prior(self.library, encoder)
                       if mode == "prior" and text and not (images or like) else None)
            routed = mode == "regression" or by_image is not None
            query, exclude = self._query_vector(encoder, text=text, like=like, like_at=like_at,
                                                images=None if routed else images)
            directions, strengths = self._phrase_vectors(encoder, phrases)
            if mode == "regression":
                seed_vectors, seed_ids = conditional.regression_seed(
                    self.library, encoder, job=job, text=text, images=images,
                    phrases=[(p.text, p.weight) for p in phrases], library_query=query), [seed]
            elif by_image is not None:
                seed_vectors, seed_ids, _ = conditional.image_seeds(
                    by_image, images, n=seeds, seed=seed, directions=directions, strengths=strengths,
                    guidance=guidance, job=job)
            elif by_text is not None:
                seed_vectors, seed_ids, _ = conditional.text_seeds(
                    by_text, text, query, n=seeds, seed=seed, directions=directions, strengths=strengths,
                    guidance=guidance, job=job)
            else:
                seed_vectors, seed_ids = self._seeds(job, mode, query, directions, strengths, seeds, seed, guidance)
            hits = self.searcher.query(seed_vectors, k * 3 if phrases else k, exclude_tracks=exclude)
        except (LibraryError, EncoderError, DecodeError, ValueError) as exc:
            raise JobFailed(str(exc)) from exc
        hits = self._demote_negatives(hits, phrases, directions)[:k]
        vectors = self.searcher.track_vectors([h.track_id for h in hits])
        labels = [result_label(h.path, h.artist, None) for h in hits]
        results = [h.to_dict() for h in hits]
        for r in results:
            r["seeds"] = [seed_ids[i] for i in r["seeds"]]  # positions → the seeds that regenerate them
        out = {"results": results, "diversity": diversity_report(vectors, labels), "seed": seed, "mode": mode,
               "encoder": encoder.id, "seeds": seed_ids, "steer": [p.to_list() for p in phrases]}
        if mode == "prior":
            out["prior"] = "conditional" if (by_image or by_text) else "unconditional"
        if images:  # how well each result matches the picture (MeLFusion's IMSM, bridged by text)
            from worker.retrieval.imsm import attach_imsm

            note = attach_imsm(results, images, vectors, encoder, by_image[1] if by_image else None)
            if note:
                out["imsm_note"] = note
        return out

    def _search_video(self, job: Job, *, video: str, video_range: list | None, pool: str, split: bool,
                      seed: int | None, **query) -> dict:
        """One search per cue of the video (frames at 1 fps, cues split at scene changes, pooled by `pool`)."""
        from worker.retrieval import conditional, video_query

        start, end = (list(video_range) + [None, None])[:2] if video_range else (None, None)
        seed = int(seed) if seed is not None else int(np.random.default_rng().integers(0, 2**31 - 1))
        try:
            job.progress("video", 0.0, f"sampling frames of {Path(video).name} at 1 fps")
            cues = video_query.video_cues(video, start_s=start, end_s=end, split=split)
            encoder = self._query_encoder()
            by_image = conditional.image_prior(self.library, encoder, [video])
            embed = (by_image[1] if by_image else encoder).embed_image
        except (DecodeError, EncoderError, ValueError) as exc:
            raise JobFailed(str(exc)) from exc
        found = []
        for i, cue in enumerate(cues):
            job.checkpoint()
            job.progress("video", i / len(cues), f"cue {i + 1} of {len(cues)}: {cue.start_s:.1f}–{cue.end_s:.1f} s")
            try:
                frames, weights = video_query.cue_frames(cue, pool=pool, embed_image=embed)
            except (EncoderError, ValueError) as exc:
                raise JobFailed(str(exc)) from exc
            result = self.search(job=job, images=frames, seed=seed, **query)
            found.append({"start_s": round(cue.start_s, 3), "end_s": round(cue.end_s, 3),
                          "scenes": [[round(s.start_s, 3), round(s.end_s, 3)] for s in cue.scenes],
                          "weights": [round(w, 4) for w in weights], "frames": len(frames), **result})
        return {"video": video, "range": [start, end], "pool": pool, "cues": found, "seed": seed}

    def train_prior(self, *, job: Job, steps: int | None = None, seed: int = 0, conditional: bool = False,
                    videos: str | None = None, condition_encoder: str | None = None) -> dict:
        """Train (or retrain) the library's unconditional Diff4Steer prior, or with `conditional` the conditional
        prior and the regression baseline on pseudo-pairs (+ frame/soundtrack pairs from `videos`)."""
        from worker.retrieval import priors

        if conditional or videos:
            return self._train_conditional(job, steps=steps, seed=seed, videos=videos,
                                           condition_encoder=condition_encoder)
        with self._writing():
            try:
                checkpoint = priors.train_library_prior(self.library, job=job, steps=steps, seed=seed)
            except ValueError as exc:
                raise JobFailed(str(exc)) from exc
        return {"path": str(priors.prior_path(self.library)), "steps": checkpoint.trained_steps,
                "final_loss": checkpoint.final_loss, "sigma_data": checkpoint.sigma_data,
                "vectors": checkpoint.info.get("vectors")}

    def _train_conditional(self, job: Job, *, steps: int | None, seed: int, videos: str | None,
                           condition_encoder: str | None) -> dict:
        from worker.retrieval import conditional, priors

        with self._writing():
            try:
                trained, pairs = conditional.train_conditional(
                    self.library, job=job, videos=videos, condition_encoder_name=condition_encoder, steps=steps,
                    seed=seed, library_encoder=self._query_encoder())
            except (ValueError, EncoderError, FileNotFoundError) as exc:
                raise JobFailed(str(exc)) from exc
        prior = trained[conditional.CONDITIONAL]
        return {"path": str(priors.prior_path(self.library, conditional.CONDITIONAL)),
                "regression_path": str(priors.prior_path(self.library, conditional.REGRESSION)),
                "steps": prior.trained_steps, "final_loss": prior.final_loss, "sigma_data": prior.sigma_data,
                "vectors": prior.info.get("vectors"), "pseudo_pairs": pairs.pseudo, "video_pairs": pairs.video,
                "condition_encoder": prior.info.get("condition_encoder"), "skipped": pairs.skipped}

    def _seeds(self, job: Job, mode: str, query: np.ndarray | None, directions: np.ndarray | None,
               strengths: list[float], n: int, seed: int, guidance: float | None) -> tuple[np.ndarray, list[int]]:
        if mode == "query":
            # One deterministic vector: the query, moved linearly by the phrases (plain kNN for comparison).
            parts = [] if query is None else [query]
            if directions is not None:
                parts.append(np.asarray(strengths, np.float32) @ directions / STEER_PER_WEIGHT)
            vector = np.sum(parts, axis=0)
            return (vector / max(float(np.linalg.norm(vector)), 1e-12))[None, :].astype(np.float32), [seed]
        from worker.retrieval import priors

        checkpoint, reason = priors.load_prior(self.library)
        if checkpoint is None:
            job.progress("prior", 0.0, f"training the Diff4Steer prior for this library ({reason})")
            checkpoint = priors.train_library_prior(self.library, job=job)
        dirs = [] if directions is None else list(directions)
        ks = list(strengths)
        if query is not None:
            dirs.append(query)
            ks.append(QUERY_STEER * (1.0 if guidance is None else float(guidance)))
        job.progress("seeds", 0.5, f"sampling {n} seed embeddings")
        return priors.sample_seeds(checkpoint, n=n, seed=seed, directions=np.stack(dirs) if dirs else None,
                                   strengths=ks or None, slerp_target=query,
                                   slerp_ratio=QUERY_SLERP if query is not None else 0.0, job=job)

    def _phrase_vectors(self, encoder: Encoder, phrases: list[Phrase]) -> tuple[np.ndarray | None, list[float]]:
        if not phrases:
            return None, []
        return encoder.embed_text([p.text for p in phrases]), [p.weight * STEER_PER_WEIGHT for p in phrases]

    def _demote_negatives(self, hits: list[Hit], phrases: list[Phrase], directions: np.ndarray | None) -> list[Hit]:
        """Push down results that sound like a negative phrase (relative to the other results)."""
        negatives = [(i, p) for i, p in enumerate(phrases) if p.weight < 0]
        if not hits or not negatives or directions is None:
            return hits
        vectors = self.searcher.track_vectors([h.track_id for h in hits])
        penalty = np.zeros(len(hits))
        for i, phrase in negatives:
            sims = vectors @ directions[i]
            penalty += abs(phrase.weight) * np.maximum(sims - np.median(sims), 0.0)
        order = np.argsort(-(np.array([h.fused for h in hits]) * np.exp(-NEGATIVE_DEMOTION * penalty)),
                           kind="stable")
        return [hits[i] for i in order]

    def analyze(self, *, job: Job, path: str) -> dict:
        """Tempo, beats, downbeats, key, loudness of one file (cached in the catalogue for library tracks)."""
        import json

        from worker.analysis.api import analyze_file, current_analyzer

        row = self.library.track_by_path(str(Path(path).expanduser().absolute()))
        if row is not None:
            with self.library.transaction() as tx:
                cached = tx.execute("SELECT json FROM analysis WHERE track_id = ?", (row["id"],)).fetchone()
            if cached and (result := json.loads(cached[0])).get("analyzer") == current_analyzer():
                return result  # an older analyzer's (or the other beat backend's) result is recomputed
        try:
            result = analyze_file(path, job=job)
        except DecodeError as exc:
            raise JobFailed(f"{path}: {exc}") from exc
        if row is not None:
            from worker.library.catalogue import now

            with self.library.transaction() as tx:
                tx.execute("INSERT OR REPLACE INTO analysis(track_id, json, updated) VALUES(?, ?, ?)",
                           (row["id"], json.dumps(result), now()))
        return result

    def export(self, *, job: Job, path: str, out_dir: str, **options) -> dict:
        """Hand-off files for one cue (WAV/BWF, stems, MIDI tempo map, markers), written atomically in out_dir."""
        from worker.export.api import export_cue

        try:
            return export_cue(path, out_dir, job=job, **options)
        except (DecodeError, FileExistsError, ValueError, OSError) as exc:
            raise JobFailed(str(exc)) from exc

    def generate(self, *, job: Job, out_dir: str, text: str | None = None, images: list[str] | None = None,
                 steer: list | None = None, seconds: float | None = 30.0, bars: int | None = None,
                 backend: str = "symbolic", seed: int | None = None, loop: bool = False, name: str | None = None,
                 force: bool = False, seeds: int = 8, markers: list[str] | str = (), timecode: str = "00:00:00:00",
                 fps: str = "25") -> dict:
        """New music in the query's direction: seeds from the library's prior (when it has one) steer the choice."""
        from worker.generate.api import LICENCES, generate_cue, write_cue
        from worker.generate.novelty import guard_cue
        from worker.generate.writer import hand_off_options

        hand_off_options(markers, timecode, fps)
        try:
            phrases = phrases_from(steer or [])
        except SteerError as exc:
            raise JobFailed(str(exc)) from exc
        seed = int(seed) if seed is not None else int(np.random.default_rng().integers(0, 2**31 - 1))
        if text:
            phrases.insert(0, Phrase(text, 1.0))
        encoder, seed_vectors = None, None
        try:
            if self.library.encoder is not None:
                encoder = self._query_encoder()
                query, _ = self._query_vector(encoder, text=None, like=None, like_at=None, images=images)
                if encoder.has_text or query is not None:
                    directions, strengths = self._phrase_vectors(encoder, phrases if encoder.has_text else [])
                    seed_vectors, _ = self._seeds(job, "prior", query, directions, strengths, seeds, seed, None)
            cue = generate_cue(backend, encoder=encoder, seeds=seed_vectors, phrases=[p.to_list() for p in phrases],
                               seconds=seconds, bars=bars, seed=seed, loop=loop, job=job)
            job.progress("novelty", 0.95, "comparing the cue with the library (novelty guard)")
            cue.metadata["novelty"] = guard_cue(cue.mix, cue.sample_rate, encoder,
                                                self.library if encoder is not None else None)
            files = write_cue(cue, out_dir, name=name or f"cue-{backend}-{seed}", force=force, markers=markers,
                              timecode=timecode, fps=fps)
        except (LibraryError, EncoderError, ValueError) as exc:
            raise JobFailed(str(exc)) from exc
        return {"files": [str(f) for f in files], "seed": seed, "backend": backend, "seconds": cue.seconds,
                "tempo_bpm": cue.tempo_bpm, "key": cue.key, "licence": LICENCES.get(backend, cue.licence),
                "steered_by_seeds": seed_vectors is not None, "novelty": cue.metadata["novelty"]}

    def embed(self, *, job: Job, texts: list[str] | None = None, audio: list[str] | None = None,
              images: list[str] | None = None, encoder: str | None = None) -> dict:
        try:
            enc = get_encoder(encoder or self.encoder_name)
            rows: list[np.ndarray] = []
            if texts:
                rows.append(enc.embed_text(texts))
            for item in audio or []:
                path, at = _split_at(item)
                rows.append(enc.embed_audio([_clip(path, at, enc.sample_rate)]))
            if images:
                rows.append(enc.embed_image(images))
        except (EncoderError, DecodeError) as exc:
            raise JobFailed(str(exc)) from exc
        if not rows:
            raise JobFailed("nothing to embed: give --text, --audio or --image")
        matrix = np.concatenate(rows).astype(np.float32)
        return {"encoder": enc.id, "version": enc.version, "dim": int(matrix.shape[1]),
                "vectors": matrix.tolist()}

    def models(self, *, job: Job) -> dict:
        """The real models: state, size, licence, where they live (directory listings only, nothing downloads)."""
        from worker.models.report import models_report

        return models_report()

    def pull_model(self, *, job: Job, name: str, revision: str = "main") -> dict:
        """Download one model with byte progress; cancel stops between chunks and a later pull resumes."""
        from worker.models.manifest import UnknownModel
        from worker.models.pull import PullError
        from worker.models.report import pull_model

        try:
            return pull_model(name, job, revision)
        except (UnknownModel, PullError) as exc:
            raise JobFailed(str(exc)) from exc

    def _query_vector(self, encoder: Encoder, *, text: str | None, like: str | None, like_at: float | None,
                      images: list[str] | None = None) -> tuple[np.ndarray | None, set[int]]:
        """The query as one unit vector in the library's space (None for a steering-only query)."""
        parts = []
        exclude: set[int] = set()
        if text:
            parts.append(encoder.embed_text([text])[0])
        if images:
            parts.append(encoder.embed_image(images).mean(axis=0))  # several frames are one query
        if like:
            parts.append(encoder.embed_audio([_clip(like, like_at, encoder.sample_rate)])[0])
            row = self.library.track_by_path(str(Path(like).expanduser().absolute()))
            if row is not None:
                exclude.add(row["id"])  # "more like this" means other tracks
        if not parts:
            return None, exclude
        query = np.mean(parts, axis=0)
        return (query / max(float(np.linalg.norm(query)), 1e-12)).astype(np.float32), exclude


def _clip(path: str, at: float | None, sample_rate: int) -> np.ndarray:
    """The 10-s window of `path` starting at `at` seconds (or the first one)."""
    start = max(at or 0.0, 0.0)
    wave = decode_mono(path, sample_rate, max_seconds=start + settings.WINDOW_SECONDS)
    clip = wave[int(start * sample_rate):]
    if len(clip) < sample_rate // 2:
        raise JobFailed(f"{path} has no audio at {start:g} s (it is {len(wave) / sample_rate:.1f} s long)")
    return clip


def _split_at(spec: str) -> tuple[str, float | None]:
    """FILE@SECONDS → (FILE, SECONDS); a path that merely contains '@' stays whole when it exists."""
    if "@" in spec and not os.path.exists(spec):
        path, _, at = spec.rpartition("@")
        try:
            return path, float(at)
        except ValueError:
            pass
    return spec, None


def _device() -> str:
    try:
        import torch
    except ImportError:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"
