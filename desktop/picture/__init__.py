"""The picture side of the desktop app: drop zone with video frame picker, and the timeline (work in progress)."""
