"""What the app, the CLI and a service job show about models: one JSON-ready document, and a pull as a job.

The desktop's first-run offer calls these through the worker (a `models` job on the interactive lane, a
`pull_model` job on the heavy lane), so offline use is never blocked: nothing here downloads unless asked.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from worker.encoders.hf import hub_cache_dir, hub_offline
from worker.models import manifest
from worker.models.manifest import MODELS
from worker.models.pull import pull
from worker.models.status import model_status


def size_text(n: int) -> str:
    """12 kB, 84 MB, 2.4 GB: one decimal below ten units, none above (the desktop's models dialog matches it)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{n} B"


def models_report() -> dict[str, Any]:
    """Every model: state, where it is (or would go), size (real when present), licence, the pull command."""
    rows = []
    for spec in MODELS:
        st = model_status(spec)
        rows.append({"name": spec.name, "label": spec.label, "repo_id": spec.repo_id, "source": spec.source,
                     "state": st.state, "path": st.path, "bytes": st.bytes_on_disk or spec.approx_bytes,
                     "size_is_approximate": not st.present, "licence": spec.licence, "used_for": spec.used_for,
                     "missing": list(st.missing), "partial_bytes": st.partial_bytes,
                     "needs_package": st.package_missing, "pull": spec.pull_command})
    return {"hub_cache": str(hub_cache_dir()), "offline": hub_offline(), "models": rows}


def pull_model(name: str, job: Any = None, revision: str = "main") -> dict[str, Any]:
    """`pull` with a worker Job's progress and cancel (`job.progress`, `job.checkpoint`); raises PullError."""
    spec = manifest.get(name)
    result = pull(spec, revision=revision, on_progress=job.progress if job is not None else None,
                  check_cancel=job.checkpoint if job is not None else None)
    return asdict(result)
