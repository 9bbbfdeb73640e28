"""Run a service method in this process or on a worker over ZeroMQ, with the same result either way.

In-process jobs run on a thread so Ctrl-C can ask them to stop at their next checkpoint (committed work stays).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from worker.jobs import Cancelled, Job, JobFailed

OnProgress = Callable[[str, float, str], None]


class Runner:
    def call(self, method: str, params: dict[str, Any], on_progress: OnProgress | None = None) -> dict:
        raise NotImplementedError

    def close(self) -> None:
        return None


class LocalRunner(Runner):
    def __init__(self, library: str | None, encoder: str | None = None):
        self.library = library
        self.encoder = encoder
        self._service = None

    @property
    def service(self):
        if self._service is None:
            from worker.service import Service

            self._service = Service(self.library, self.encoder)
        return self._service

    def call(self, method: str, params: dict[str, Any], on_progress: OnProgress | None = None) -> dict:
        service = self.service
        if method not in service.LANES:
            raise JobFailed(f"unknown job {method!r}")
        job = Job(progress_fn=on_progress or (lambda *a: None))
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = getattr(service, method)(job=job, **params)
            except BaseException as exc:  # handed to the calling thread
                box["error"] = exc

        thread = threading.Thread(target=target, name=f"job-{method}", daemon=True)
        thread.start()
        try:
            while thread.is_alive():
                thread.join(0.2)
        except KeyboardInterrupt:
            job.cancel()
            thread.join()
            raise Cancelled("cancelled by the user; everything committed so far is kept") from None
        if "error" in box:
            raise box["error"]
        return box["result"]

    def close(self) -> None:
        if self._service is not None:
            self._service.close()


class RemoteRunner(Runner):
    """The same calls through `protocol.link.Link` to a running `cuesteer-worker`."""

    def __init__(self, endpoint: str):
        from protocol.link import Link

        self.link = Link(endpoint)

    def call(self, method: str, params: dict[str, Any], on_progress: OnProgress | None = None) -> dict:
        from protocol.link import RemoteError

        progress = None
        if on_progress is not None:
            def progress(stage: str, fraction: float, message: str, *_: Any) -> None:
                on_progress(stage, fraction, message)
        try:
            return self.link.call(method, params, on_progress=progress)
        except RemoteError as exc:
            if getattr(exc, "reason", "") == "cancelled":
                raise Cancelled(str(exc)) from exc
            raise JobFailed(str(exc)) from exc
        except KeyboardInterrupt:
            raise Cancelled("cancelled by the user") from None

    def close(self) -> None:
        self.link.close()
