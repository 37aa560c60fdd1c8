"""Benchmarks of secrets-platform: program evaluation, the policy pack and the engine.

Run with ``.venv/bin/python bench/run.py`` (``--quick`` for a short run);
docs/PERFORMANCE.md explains the method and the results. Nothing here is imported
by the program or the pack.
"""
