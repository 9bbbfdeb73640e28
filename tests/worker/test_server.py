"""The worker over real sockets, in a real process: replies, lanes, cancel, several clients, crashes, shutdown."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol.link import Link, RemoteError
from protocol.messages import MAX_FRAME_BYTES, Accepted, Failed, Progress, Result
from tests.protocol.live_worker import Worker, run_worker_until_exit, running_worker, start_worker

HEARTBEAT_S = 0.5  # generous: the test machine is shared and busy
KILL_HEARTBEAT_S = 0.3
CALL_TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    with running_worker(tmp_path_factory.mktemp("shared") / "library") as worker:
        yield worker


@pytest.fixture
def link(worker: Worker) -> Iterator[Link]:
    with Link(worker.endpoint, heartbeat_s=HEARTBEAT_S) as link:
        yield link


def test_a_call_is_accepted_then_progresses_then_ends_with_one_result(link: Link) -> None:
    rid = link.submit("count", {"n": 5, "step_s": 0.05, "stage": "counting"})
    events = list(link.events(rid, timeout=CALL_TIMEOUT_S))
    assert isinstance(events[0], Accepted) and events[0].lane == "heavy"
    assert isinstance(events[-1], Result) and events[-1].value == {"counted": 5}
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress and all(p.stage == "counting" for p in progress)
    assert [p.fraction for p in progress] == sorted(p.fraction for p in progress)
    assert progress[-1].fraction == 1.0 and progress[-1].eta_s == 0.0
    assert sum(isinstance(e, Result | Failed) for e in events) == 1
    assert link.poll(rid) == []  # the stream is over


def test_call_returns_the_value_and_reports_progress(link: Link) -> None:
    seen: list[tuple] = []
    value = link.call("count", {"n": 3, "step_s": 0.12}, on_progress=lambda *a: seen.append(a), timeout=CALL_TIMEOUT_S)
    assert value == {"counted": 3}
    assert seen[-1][:3] == ("counting", 1.0, "3/3")
    assert link.call("echo", {"value": {"nested": [1, "two", None]}})["value"] == {"nested": [1, "two", None]}


def test_progress_is_rate_limited_but_stage_changes_and_the_end_go_through(link: Link) -> None:
    rid = link.submit("count", {"n": 5000})
    events = list(link.events(rid, timeout=CALL_TIMEOUT_S))
    progress = [e for e in events if isinstance(e, Progress)]
    assert 1 <= len(progress) < 100  # 5000 callbacks, 0.1 s apart at most
    assert progress[0].message == "1/5000" and progress[-1].message == "5000/5000"


@pytest.mark.parametrize(
    ("method", "params", "reason", "fragment"),
    [
        ("fail", {"message": "that file is not audio"}, "error", "that file is not audio"),
        ("crash", {}, "error", "ZeroDivisionError"),
        ("wrong", {}, "error", "returned list, not a dict"),
        ("nosuch", {}, "bad_request", "unknown method 'nosuch'; this worker offers: big, count, crash, echo"),
        ("not_exposed", {}, "bad_request", "unknown method"),
        ("echo", {"bogus": 1}, "bad_request", "unexpected keyword argument 'bogus'"),
        ("count", {}, "bad_request", "missing a required argument: 'n'"),
        ("echo", {"job": 1}, "bad_request", "'job' is supplied by the worker"),
    ],
)
def test_failures_arrive_as_typed_remote_errors(
    link: Link, method: str, params: dict, reason: str, fragment: str
) -> None:
    with pytest.raises(RemoteError) as caught:
        link.call(method, params, timeout=CALL_TIMEOUT_S)
    assert caught.value.reason == reason
    assert fragment in str(caught.value)
    assert link.call("echo", {"value": 1})["value"] == 1  # and the worker carries on


def test_a_result_too_large_for_a_frame_fails_with_a_reason(link: Link) -> None:
    with pytest.raises(RemoteError, match="the result could not be sent: oversized") as caught:
        link.call("big", {"size": MAX_FRAME_BYTES + 1}, timeout=CALL_TIMEOUT_S)
    assert caught.value.reason == "error"
    with pytest.raises(RemoteError, match="too large to send") as refused:  # a too-large request never leaves
        link.call("echo", {"value": "x" * MAX_FRAME_BYTES}, timeout=CALL_TIMEOUT_S)
    assert refused.value.reason == "bad_request"


def test_cancel_mid_job_stops_at_a_checkpoint(link: Link) -> None:
    rid = link.submit("count", {"n": 100_000, "step_s": 0.001})
    events = []
    for event in link.events(rid, timeout=CALL_TIMEOUT_S):
        events.append(event)
        if isinstance(event, Progress) and len(events) == 3:
            link.cancel(rid)
    assert events[-1] == Failed("cancelled", "cancelled")
    assert max(e.fraction for e in events if isinstance(e, Progress)) < 0.5
    assert link.call("echo", {"value": "still here"})["value"] == "still here"


def test_cancel_of_a_queued_job_answers_at_once_and_it_never_runs(link: Link) -> None:
    first = link.submit("count", {"n": 200, "step_s": 0.005})
    second = link.submit("count", {"n": 1})
    assert isinstance(next(link.events(second, timeout=CALL_TIMEOUT_S)), Accepted)
    link.cancel(second)
    rest = list(link.events(second, timeout=CALL_TIMEOUT_S))
    assert rest == [Failed("cancelled", "cancelled before it started")]
    assert isinstance(list(link.events(first, timeout=CALL_TIMEOUT_S))[-1], Result)


def test_pings_and_interactive_calls_do_not_wait_for_heavy_jobs(link: Link) -> None:
    heavy = link.submit("count", {"n": 300, "step_s": 0.01})  # ~3 s on the heavy lane
    queued = link.submit("count", {"n": 1})  # waits behind it on the heavy lane
    assert isinstance(next(link.events(heavy, timeout=CALL_TIMEOUT_S)), Accepted)
    accepted = next(link.events(queued, timeout=CALL_TIMEOUT_S))
    assert accepted == Accepted(lane="heavy", queued=1)
    started = time.monotonic()
    pong = link.ping(timeout=CALL_TIMEOUT_S)
    assert link.call("echo", {"value": 7}, timeout=CALL_TIMEOUT_S)["value"] == 7
    assert time.monotonic() - started < 1.0
    assert pong.running["heavy"] == 2
    link.cancel(heavy)
    assert list(link.events(heavy, timeout=CALL_TIMEOUT_S))[-1].reason == "cancelled"
    assert list(link.events(queued, timeout=CALL_TIMEOUT_S))[-1] == Result({"counted": 1})


def test_several_clients_at_once_each_get_their_own_answers(worker: Worker) -> None:
    failures: list[str] = []

    def client(i: int) -> None:
        try:
            with Link(worker.endpoint, heartbeat_s=HEARTBEAT_S, name=f"client{i}") as link:
                for j in range(10):
                    assert link.call("echo", {"value": [i, j]}, timeout=CALL_TIMEOUT_S)["value"] == [i, j]
                assert link.call("count", {"n": 20 + i}, timeout=CALL_TIMEOUT_S) == {"counted": 20 + i}
        except Exception as exc:  # surfaced below: pytest does not see thread exceptions
            failures.append(f"client {i}: {exc!r}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []


def test_one_link_used_from_many_threads(link: Link) -> None:
    results: dict[int, object] = {}

    def one(i: int) -> None:
        results[i] = link.call("echo", {"value": i}, timeout=CALL_TIMEOUT_S)["value"]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {i: i for i in range(20)}


def test_on_event_callbacks_see_the_whole_stream(link: Link) -> None:
    done = threading.Event()
    kinds: list[str] = []

    def on_event(rid: str, event: object) -> None:
        kinds.append(type(event).__name__)
        if isinstance(event, Result | Failed):
            done.set()

    link.submit("count", {"n": 3}, on_event=on_event)
    assert done.wait(CALL_TIMEOUT_S)
    assert kinds[0] == "Accepted" and kinds[-1] == "Result" and "Progress" in kinds


def test_a_timeout_cancels_the_job_on_the_worker(link: Link) -> None:
    with pytest.raises(RemoteError) as caught:
        link.call("count", {"n": 100_000, "step_s": 0.001}, timeout=0.5)
    assert caught.value.reason == "timeout"
    deadline = time.monotonic() + 5
    while link.ping(timeout=CALL_TIMEOUT_S).running["heavy"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert link.ping(timeout=CALL_TIMEOUT_S).running["heavy"] == 0


def test_kill_9_mid_job_is_reported_as_worker_lost_within_three_heartbeats(tmp_path: Path) -> None:
    with running_worker(tmp_path / "library") as worker, Link(worker.endpoint, heartbeat_s=KILL_HEARTBEAT_S) as link:
        rid = link.submit("count", {"n": 100_000, "step_s": 0.001})
        events = link.events(rid, timeout=CALL_TIMEOUT_S)
        while not isinstance(next(events), Progress):
            pass
        worker.kill()
        killed = time.monotonic()
        final = list(events)[-1]
        noticed = time.monotonic() - killed
    assert isinstance(final, Failed) and final.reason == "worker_lost"
    assert "stopped answering" in final.message
    assert noticed <= 3 * KILL_HEARTBEAT_S + 0.5  # three silent heartbeats, plus one check tick and slack


def test_a_link_reconnects_to_a_restarted_worker_and_the_lock_passes_on(tmp_path: Path) -> None:
    library = tmp_path / "library"
    first = start_worker(library)
    try:
        refused = run_worker_until_exit(library, "--endpoint", "tcp://127.0.0.1:*")
        assert refused.returncode == 1
        assert f"process {first.process.pid}" in refused.stderr and "being written by" in refused.stderr
        with Link(first.endpoint, heartbeat_s=KILL_HEARTBEAT_S) as link:
            assert link.call("echo", {"value": 1}, timeout=CALL_TIMEOUT_S)["pid"] == first.process.pid
            first.kill()  # no clean-up: the lock must not be stale for the next worker
            with pytest.raises(RemoteError) as caught:
                link.call("echo", {"value": 2}, timeout=CALL_TIMEOUT_S)
            assert caught.value.reason == "worker_lost"
            assert link.state == "lost"
            with running_worker(library, endpoint=first.endpoint) as second:
                value = link.call("echo", {"value": 3}, timeout=CALL_TIMEOUT_S)
                assert value == {"value": 3, "pid": second.process.pid}
                assert link.state == "ready"
    finally:
        if first.process.poll() is None:
            first.kill()


def test_default_endpoint_is_ipc_in_the_library_and_sigterm_stops_cleanly(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    worker = start_worker(library, endpoint="")
    assert worker.endpoint == f"ipc://{library / 'worker.sock'}"
    info = json.loads((library / "worker.json").read_text())
    assert info == {"endpoint": worker.endpoint, "pid": worker.process.pid, "curve_public_key": None}
    with Link(worker.endpoint, heartbeat_s=HEARTBEAT_S) as link:
        rid = link.submit("count", {"n": 100_000, "step_s": 0.001})
        events = link.events(rid, timeout=CALL_TIMEOUT_S)
        while not isinstance(next(events), Progress):
            pass
        assert worker.terminate() == 0
        assert list(events)[-1] == Failed("cancelled", "cancelled")  # the running job reached a checkpoint
    assert not (library / "worker.json").exists() and not (library / "worker.sock").exists()
    assert "stopped" in worker.log()
    with running_worker(library, endpoint="") as again:  # lock released, socket file reusable
        assert again.endpoint == worker.endpoint


def test_a_client_that_goes_silent_has_its_jobs_cancelled(worker: Worker) -> None:
    silent = Link(worker.endpoint, heartbeat_s=0.1, name="silent")
    rid = silent.submit("count", {"n": 100_000, "step_s": 0.001})
    assert isinstance(next(silent.events(rid, timeout=CALL_TIMEOUT_S)), Accepted)
    silent.close()  # stops heartbeating without a word, like a crashed app
    with Link(worker.endpoint, heartbeat_s=HEARTBEAT_S) as watcher:
        deadline = time.monotonic() + 10
        while watcher.ping(timeout=CALL_TIMEOUT_S).running["heavy"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert watcher.ping(timeout=CALL_TIMEOUT_S).running["heavy"] == 0
    assert "went silent: cancelling" in worker.log()


def test_binding_beyond_loopback_without_curve_refuses_to_start(tmp_path: Path) -> None:
    for endpoint in ("tcp://0.0.0.0:47999", "tcp://*:47999"):
        refused = run_worker_until_exit(tmp_path / "library", "--endpoint", endpoint)
        assert refused.returncode == 2
        assert "refusing to listen" in refused.stderr and "--curve-secret-key" in refused.stderr
    assert not (tmp_path / "library" / "worker.json").exists()


def test_a_worker_whose_app_was_killed_stops_and_releases_the_library(tmp_path: Path) -> None:
    app = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])  # stands in for cuesteer-app
    library = tmp_path / "lib"
    worker = start_worker(library, "--exit-with-parent", str(app.pid), endpoint="")
    try:
        assert worker.process.poll() is None
        app.kill()
        app.wait()
        assert worker.process.wait(timeout=CALL_TIMEOUT_S) == 0
        assert "parent process" in worker.log() and not (library / "worker.json").exists()
    finally:
        app.kill()
        worker.kill()
