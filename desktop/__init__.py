"""The PySide6 desktop app. Talks to the worker only through protocol/; never imports torch."""
