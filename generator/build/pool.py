"""The worker processes a build, its scan and diff run on: how they are started, knowing nothing of departments."""

from __future__ import annotations


def pool_context():
    """The multiprocessing context for a pool of workers: fork where the platform has it (the workers start with
    what this process has loaded), spawn elsewhere."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")
