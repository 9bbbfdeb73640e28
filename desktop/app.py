"""`cuesteer-app`: the desktop app. Starts a local worker on the library (or attaches to one with `--connect`),
or with `--screenshot FILE` renders the main window offscreen with a small demo library loaded, and exits."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cuesteer-app", description="Find and make music for pictures.")
    parser.add_argument("--library", metavar="DIR", help="library folder for the local worker "
                        "(default: $CUESTEER_LIBRARY or the platform data dir)")
    parser.add_argument("--connect", metavar="ENDPOINT", help="attach to a running worker (ipc://… or tcp://…) "
                        "instead of starting one")
    parser.add_argument("--curve-secret-key", metavar="FILE", help="with --connect: this client's NAME.key_secret "
                        "(CURVE, for a worker beyond loopback; see docs/remote-worker.md)")
    parser.add_argument("--curve-server-key", metavar="FILE", help="with --connect: the worker's public NAME.key")
    parser.add_argument("--encoder", help="encoder for new vectors in the local worker (default: the worker's)")
    parser.add_argument("--output", metavar="DIR", help="where exports and generated cues go "
                        "(default: <Music>/cuesteer)")
    parser.add_argument("--screenshot", metavar="FILE", help="render the window with a demo library into FILE "
                        "(PNG) and exit")
    parser.add_argument("--state", default="results", help="with --screenshot: results, steering, library, "
                        "generate, export or crash")
    parser.add_argument("--log-level", default="WARNING")
    return parser


def default_output() -> Path:
    from PySide6.QtCore import QStandardPaths

    music = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MusicLocation) or str(Path.home())
    return Path(music) / "cuesteer"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.connect and args.library:
        print("cuesteer-app: --connect and --library exclude each other (the worker owns its library)",
              file=sys.stderr)
        return EXIT_USAGE
    if bool(args.curve_secret_key) != bool(args.curve_server_key) or (args.curve_secret_key and not args.connect):
        print("cuesteer-app: --curve-secret-key and --curve-server-key go together, with --connect", file=sys.stderr)
        return EXIT_USAGE
    curve = None
    if args.curve_secret_key:
        from protocol.curve import ClientKeys

        try:
            curve = ClientKeys.load(args.curve_secret_key, args.curve_server_key)
        except (OSError, ValueError) as exc:
            print(f"cuesteer-app: cannot read the CURVE keys: {exc}", file=sys.stderr)
            return EXIT_USAGE
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("cuesteer")
    from desktop.main_window import picture_module

    picture = picture_module()
    if picture is not None and hasattr(picture, "guard_pyside"):
        picture.guard_pyside()  # belt and braces where a leaking PySide6 6.12 is installed despite the pin
    if args.screenshot:
        from desktop.screenshot import render_screenshot

        return render_screenshot(Path(args.screenshot), args.state)

    from desktop.bridge import WorkerBridge
    from desktop.main_window import MainWindow
    from desktop.worker_manager import WorkerManager

    bridge = WorkerBridge(curve=curve)
    manager = WorkerManager(bridge, library=args.library, connect=args.connect, encoder=args.encoder)
    from desktop.app_settings import open_settings

    window = MainWindow(bridge, manager, Path(args.output) if args.output else default_output(),
                        settings=open_settings())
    window.show()
    manager.start()
    stop_on_signals(app)
    code = app.exec()
    manager.stop()  # after Ctrl-C or SIGTERM too: the worker never outlives the app it belongs to
    return code


SIGNAL_POLL_MS = 200


def stop_on_signals(app) -> None:
    """Quit the event loop cleanly on SIGINT/SIGTERM. Python runs signal handlers only between bytecodes, so a
    timer lets the interpreter in while Qt's loop waits."""
    import signal

    from PySide6.QtCore import QTimer

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: app.quit())
    timer = QTimer(app)
    timer.setInterval(SIGNAL_POLL_MS)
    timer.timeout.connect(lambda: None)
    timer.start()


if __name__ == "__main__":
    sys.exit(main())
