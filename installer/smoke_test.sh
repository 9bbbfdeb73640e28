#!/usr/bin/env bash
# Bundle smoke test: the frozen programs do the product's main job on this machine.
#   bash installer/smoke_test.sh                    # reuse dist/cuesteer if built from HEAD's sources, else build
#   CUESTEER_SMOKE_REUSE=1 bash installer/smoke_test.sh   # reuse any existing bundle (a busy shared tree)
#   CUESTEER_SMOKE_REBUILD=1 bash installer/smoke_test.sh # always build
# Steps: build/reuse → doctor → app cold start → start the bundled worker and time its first ping reply →
# index a folder of synthesised music with a tiny CLAP (random weights from a config, in a private Hugging Face
# cache: the frozen transformers path, offline) → train a small prior → a steered query → export a cue with a
# MIDI tempo map → stop the worker. Exits non-zero at the first failure; cleans up its temp folder either way.
# Needs the repo's Python environment too (the test data and the ping client come from tests/ and protocol/).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
dist=${DIST:-$here/dist}
bundle="$dist/${CUESTEER_BUNDLE_NAME:-cuesteer}"
say() { echo "smoke: $*" >&2; }
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
now() { "$py" -c 'import time; print(f"{time.monotonic():.3f}")'; }
elapsed() { "$py" -c "print(f'{$(now) - $1:.1f}')"; }

# ---- 1. the bundle -------------------------------------------------------------------------------------------
# Fresh = built from a commit whose bundled paths match HEAD's (build_linux.sh records it in BUILD_COMMIT).
bundled_paths=(worker protocol desktop presets installer/cuesteer.spec installer/launch.py)
stale="no bundle"
if [ -x "$bundle/cuesteer-worker" ]; then
  built=$(cat "$bundle/BUILD_COMMIT" 2>/dev/null || echo unknown)
  if git -C "$here" cat-file -e "$built^{commit}" 2>/dev/null && \
     git -C "$here" diff --quiet "$built" HEAD -- "${bundled_paths[@]}"; then
    stale=""
  else
    stale="built from ${built:0:12}, HEAD differs"
  fi
fi
if [ "${CUESTEER_SMOKE_REBUILD:-0}" = 1 ] || [ ! -x "$bundle/cuesteer-worker" ] || \
   { [ -n "$stale" ] && [ "${CUESTEER_SMOKE_REUSE:-0}" != 1 ]; }; then
  say "building the bundle ($stale)"
  DIST="$dist" bash "$here/installer/build_linux.sh"
else
  say "reusing $bundle (built from $(cat "$bundle/BUILD_COMMIT" 2>/dev/null || echo '?'))"
fi
for program in cuesteer-worker cuesteer; do
  [ -x "$bundle/$program" ] || fail "$bundle/$program is missing"
done
bundle_size=$(du -sh "$bundle" | cut -f1)

# ---- 2. a private world: temp library, caches and test data --------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cuesteer-smoke.XXXXXX")
worker_pid=""
cleanup() {
  if [ -n "$worker_pid" ] && kill -0 "$worker_pid" 2>/dev/null; then kill -TERM "$worker_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
export HF_HUB_CACHE="$tmp/hub" HF_HUB_OFFLINE=1 TORCH_HOME="$tmp/torch" CUESTEER_CACHE="$tmp/cache" \
       CUESTEER_LIBRARY="$tmp/lib" TOKENIZERS_PARALLELISM=false QT_QPA_PLATFORM=offscreen
(cd "$here" && "$py" - "$tmp" <<'PY'
import sys
from pathlib import Path

from tests.installer.hub_layout import to_blob_layout
from tests.media import clicks, tone, write
from tests.worker.encoders.tiny_models import save_to_hub_cache, tiny_clap

out = Path(sys.argv[1])
(out / "music").mkdir(parents=True)
for i, hz in enumerate((220.0, 330.0, 440.0, 550.0)):  # 4 × 25 s → 20 windows: enough to train a prior
    write(out / "music" / f"song{i}.wav", tone(25.0, 22050, hz) + clicks(25.0, 80 + 30 * i, seed=i))
to_blob_layout(save_to_hub_cache(*tiny_clap(), out / "hub", "laion/larger_clap_music"))  # as huggingface_hub lays it out
PY
) 2>/dev/null || fail "could not prepare the test data"

# ---- 3. doctor and the app -----------------------------------------------------------------------------------
set +e
"$bundle/cuesteer" doctor --library "$tmp/lib" > "$tmp/doctor.txt" 2>&1
doctor_rc=$?
set -e
[ "$doctor_rc" -le 1 ] || { cat "$tmp/doctor.txt" >&2; fail "cuesteer doctor crashed (exit $doctor_rc)"; }
"$bundle/cuesteer" models list > /dev/null || fail "cuesteer models list"
"$bundle/cuesteer" models verify clap > "$tmp/verify.txt" || { cat "$tmp/verify.txt" >&2; fail "models verify clap"; }
app_start="n/a (no cuesteer-app in this bundle)"
if [ -x "$bundle/cuesteer-app" ]; then
  t=$(now)
  "$bundle/cuesteer-app" --help > "$tmp/app-help.txt" 2>&1 || { cat "$tmp/app-help.txt" >&2; fail "cuesteer-app --help"; }
  help_s=$(elapsed "$t")
  t=$(now)
  if grep -q -- --screenshot "$tmp/app-help.txt"; then
    "$bundle/cuesteer-app" --screenshot "$tmp/app.png" > "$tmp/app.log" 2>&1 || { tail -20 "$tmp/app.log" >&2; fail "cuesteer-app --screenshot"; }
    [ -s "$tmp/app.png" ] || fail "cuesteer-app --screenshot wrote no image"
    app_start="${help_s} s to --help; $(elapsed "$t") s to a rendered --screenshot (its own worker, demo library)"
  else
    app_start="${help_s} s to --help (no --screenshot yet)"
  fi
fi

# ---- 4. the worker: first ping, index, steered search, export ------------------------------------------------
endpoint="ipc://$tmp/worker.sock"
worker_start=$("$py" "$here/installer/ping_worker.py" --endpoint "$endpoint" --pid-file "$tmp/worker.pid" \
               --log "$tmp/worker.log" -- "$bundle/cuesteer-worker" --library "$tmp/lib" --endpoint "$endpoint" \
               --encoder clap) || { tail -20 "$tmp/worker.log" >&2; fail "the bundled worker never answered a ping"; }
worker_pid=$(cat "$tmp/worker.pid")
say "worker answered its first ping after ${worker_start} s"
cli() { "$bundle/cuesteer" --connect "$endpoint" "$@"; }

t=$(now)
cli index "$tmp/music" --json > "$tmp/index.json" 2>"$tmp/index.err" || { cat "$tmp/index.err" >&2; fail "index"; }
"$py" - "$tmp/index.json" <<'PY' || fail "index result"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["indexed"] == 4 and not r["errors"] and r["encoder"] == "clap", r
PY
say "indexed 4 files in $(elapsed "$t") s"

t=$(now)
cli prior train --steps 30 > /dev/null 2>"$tmp/prior.err" || { cat "$tmp/prior.err" >&2; fail "prior train"; }
cli search --text "warm piano" --steer "+calm:0.5" --steer "-drums:0.3" -k 2 --seeds 4 --seed 7 --json \
  > "$tmp/search.json" 2>"$tmp/search.err" || { cat "$tmp/search.err" >&2; fail "steered search"; }
"$py" - "$tmp/search.json" "$tmp/music" <<'PY' || fail "search result"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["mode"] == "prior" and r["seed"] == 7 and r["steer"] == [["calm", 0.5], ["drums", -0.3]], r
assert len(r["results"]) == 2 and all(x["path"].startswith(sys.argv[2]) for x in r["results"]), r
assert "miscs" in r["diversity"], r
PY
say "trained a prior and answered a steered query in $(elapsed "$t") s"

t=$(now)
cue=$(cd "$tmp" && "$py" -c "import json; print(json.load(open('search.json'))['results'][0]['path'])")
cli export "$cue" --start 0 --end 12 --midi --out "$tmp/out" --json > "$tmp/export.json" 2>"$tmp/export.err" \
  || { cat "$tmp/export.err" >&2; fail "export"; }
"$py" - "$tmp/out" <<'PY' || fail "exported cue"
import sys
from pathlib import Path

import mido
import soundfile as sf

out = Path(sys.argv[1])
(wav,) = out.glob("*.wav")
(mid,) = out.glob("*.mid")
info = sf.info(str(wav))
assert abs(info.duration - 12.0) < 0.05, info
midi = mido.MidiFile(str(mid))
tempos = [m for m in midi.tracks[0] if m.type == "set_tempo"]
assert midi.type == 1 and midi.ticks_per_beat == 480 and len(tempos) >= 8, (midi.type, len(tempos))
PY
say "exported a 12 s cue with a MIDI tempo map in $(elapsed "$t") s"

# The real-model back-ends load in the bundle as far as their missing weights, and say how to fetch them.
for backend in musicgen musicldm; do
  if cli generate --text "calm piano" --seconds 2 --backend "$backend" --out "$tmp/gen-$backend" \
       > /dev/null 2>"$tmp/gen-$backend.err"; then
    fail "generate --backend $backend succeeded without weights?"
  fi
  grep -q "cuesteer models pull $backend" "$tmp/gen-$backend.err" \
    || { cat "$tmp/gen-$backend.err" >&2; fail "generate --backend $backend did not name its pull command"; }
done
say "musicgen and musicldm back-ends import in the bundle and name their pull commands"

# ---- 5. stop cleanly -----------------------------------------------------------------------------------------
kill -TERM "$worker_pid"
for _ in $(seq 50); do kill -0 "$worker_pid" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$worker_pid" 2>/dev/null; then kill -KILL "$worker_pid"; fail "the worker ignored SIGTERM"; fi
worker_pid=""
[ ! -e "$tmp/worker.sock" ] || fail "the worker left its socket file behind"

say "PASS — bundle $bundle ($bundle_size); worker cold start ${worker_start} s to first ping; app: $app_start"
say "doctor (exit $doctor_rc):"
sed 's/^/  /' "$tmp/doctor.txt" >&2
