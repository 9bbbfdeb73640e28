"""Progress lines shown for worker jobs: "embed 42 % · 120/300 files · about 1 min 20 s left"."""

from __future__ import annotations

from protocol.messages import Progress


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0.0, float(seconds))
    if seconds < 1:
        return "almost done"
    if seconds < 60:
        return f"about {seconds:.0f} s left"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"about {minutes} min {secs:02d} s left"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes:02d} min left"


def progress_text(event: Progress) -> str:
    parts = [f"{event.stage} {event.fraction * 100:.0f} %"]
    if event.message:
        parts.append(event.message)
    eta = format_eta(event.eta_s)
    if eta and " left" not in event.message:  # some jobs already say it in their message
        parts.append(eta)
    return " · ".join(parts)
