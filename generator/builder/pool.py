"""The worker processes a build, its scan and diff run on: how they are started, knowing nothing of departments."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence

_STATE = None  # in a worker of in_workers: what its set-up returned (a Pool's initializer can pass tasks nothing else)


def pool_context():
    """The multiprocessing context for a pool of workers: fork where the platform has it (the workers start with
    what this process has loaded), spawn elsewhere."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _set_up(setup: Callable, args: tuple) -> None:
    global _STATE
    _STATE = setup(*args)


def _work(work: Callable, item):
    return work(_STATE, item)


def in_workers(
    work: Callable,
    items: Sequence,
    jobs: int,
    setup: Callable,
    args: tuple = (),
    in_order: bool = False,
    chunk: int = 1,
) -> Iterator:
    """`work(state, item)` for each item, on up to `jobs` worker processes, yielding each result as it finishes
    (in any order, `chunk` items at a time, so a slow one holds up no other; with `in_order`, in the items' order).
    `state` is what `setup(*args)` returned in that worker when it started: what every item needs, made once a
    worker rather than sent with each item. The workers stop when the iteration ends or is abandoned."""
    context = pool_context()
    with context.Pool(min(jobs, len(items)), initializer=_set_up, initargs=(setup, args)) as pool:
        each = pool.imap if in_order else pool.imap_unordered
        yield from each(functools.partial(_work, work), items, chunksize=chunk)
