"""Benchmarks: run them as modules from the repository root, `python -m benchmarks.query`.

Run so, `benchmarks` and the shared test support (`tests`, e.g. the fake Bot API server) import
as packages; nothing edits `sys.path`.
"""
