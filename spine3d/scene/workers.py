"""Worker processes that stop with the program: Ctrl-C, SIGTERM and SIGHUP end them at once."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["stop_workers_with_signals"]

_STOPPING = {"on": False, "registered": False}
"""Whether processes forked now leave Ctrl-C to their parent, and whether the hook that
sees to it is registered (once per process)."""


def _worker_signals() -> None:
    """In a freshly forked worker: ignore Ctrl-C (the parent stops it), die on SIGTERM/SIGHUP."""
    if not _STOPPING["on"]:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, signal.SIG_DFL)


@contextmanager
def stop_workers_with_signals() -> Iterator[None]:
    """Stop the worker processes of a run at once when the program is interrupted.

    A process pool that meets an interrupt waits for the members under way before it
    lets the program go, and Ctrl-C reaches every process of the terminal's group, so
    each worker would print its own traceback. Within this block, processes forked from
    here ignore Ctrl-C and end on SIGTERM. Ctrl-C, SIGTERM or SIGHUP in this process
    ends every process it started through :mod:`multiprocessing`; the pool then stops
    as it does for a lost worker, and the signal does what it did before (raise
    KeyboardInterrupt, or the program's own handler) as soon as the pool has let go.
    Outside the main thread it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    import multiprocessing

    if not _STOPPING["registered"]:
        os.register_at_fork(after_in_child=_worker_signals)
        _STOPPING["registered"] = True
    signals = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s]
    before = {s: signal.getsignal(s) for s in signals}
    caught: list[int] = []

    def act(signum: int, frame) -> None:
        previous = before[signum]
        if callable(previous):
            previous(signum, frame)
            return
        signal.signal(signum, signal.SIG_DFL)  # what the signal would have done
        os.kill(os.getpid(), signum)

    def stop(signum: int, frame) -> None:
        if before[signum] == signal.SIG_IGN:
            return
        workers = multiprocessing.active_children()
        if not workers or caught:  # no pool to stop, or a second signal: act now
            act(signum, frame)
            return
        # Raising here would cancel the pool's queued members while its manager thread
        # marks them failed (CPython 3.11 then prints an InvalidStateError); ending the
        # workers lets the pool fail on its own, and the signal acts once it has.
        caught.append(signum)
        for child in workers:
            child.terminate()

    for s in signals:
        signal.signal(s, stop)
    _STOPPING["on"] = True
    try:
        yield
    except Exception:
        if not caught:
            raise
    finally:
        _STOPPING["on"] = False
        for s, handler in before.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
    if caught:
        act(caught[0], None)
