"""Typed messages, framing and the client link between front ends and the worker. Never imports torch or Qt."""
