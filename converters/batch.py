"""Studies converted one after another, or in worker processes (``-j``), their stage messages relayed to
one progress display in this process (several processes writing to one terminal would garble it)."""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Sequence

from converters.progress import Silent

# job(target, progress) -> a result with .study and .ok; progress(message) reports a stage
Job = Callable[[Any, Callable[[str], None]], Any]

_relay = None  # in a worker process: where its stage messages go


def exit_on_sigterm() -> None:
    """SIGTERM ends the process as Ctrl-C would: cleanup (staging folders, workers) runs."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def _start_worker(relay) -> None:
    global _relay
    _relay = relay
    exit_on_sigterm()
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent died (SIGKILL) stops too, cleaning up as on SIGTERM."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)


def _in_worker(job: Job, key: int, target):
    # SimpleQueue.put writes at once (no feeder thread): a study's stages arrive before its result
    return job(target, lambda message: _relay.put((key, message)))


def _drain(relay, display: Silent) -> None:
    while not relay.empty():
        display.stage(*relay.get())


def run_studies(job: Job, targets: Sequence, jobs: int, display: Silent) -> list:
    """Results in the order of ``targets``; the display hears of each study as it finishes."""
    if jobs <= 1 or len(targets) <= 1:
        results = []
        for key, target in enumerate(targets):
            res = job(target, lambda message, key=key: display.stage(key, message))
            display.done(key, res.study, res.ok)
            results.append(res)
        return results
    context = multiprocessing.get_context()
    relay = context.SimpleQueue()
    results: list = [None] * len(targets)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_worker,
                             initargs=(relay,)) as pool:
        try:
            futures = {pool.submit(_in_worker, job, key, target): key for key, target in enumerate(targets)}
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(relay, display)
                for future in sorted(finished, key=futures.__getitem__):
                    res = results[futures[future]] = future.result()
                    display.done(futures[future], res.study, res.ok)
        except BaseException:
            _stop_workers(pool)
            raise
    return results


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """SIGTERM to every worker (each removes its staging folder), instead of waiting for their studies."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(10)
