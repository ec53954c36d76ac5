"""Run a competitor in a forked child process with a time limit (shared by the benchmarks).

A competitor that runs out of memory or time must not take the benchmark down with it: the child
puts its result on a queue; a failure or a timeout is reported as (None, reason).
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
import time


def run_in_child(target, args, timeout: float):
    """Call ``target(*args, queue)`` in a child; return what it puts on the queue, or (None, reason)."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    deadline = time.perf_counter() + timeout
    while True:
        try:
            out = queue.get(timeout=1.0)
            break
        except queue_mod.Empty:
            if not proc.is_alive():
                out = (None, f"child exited with code {proc.exitcode}")
                break
            if time.perf_counter() > deadline:
                proc.terminate()
                out = (None, f"> {timeout:.0f} s")
                break
    proc.join()
    return out
