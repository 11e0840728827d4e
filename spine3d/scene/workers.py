"""Worker processes that stop with the program: Ctrl-C, SIGTERM and SIGHUP end them at once."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["stop_workers_with_signals"]

_STOPPING = {"on": False, "stopping": False, "registered": False}
"""Whether processes forked now leave Ctrl-C to their parent, whether the parent is
stopping them, and whether the hook that sees to it is registered (once per process)."""


def _worker_signals() -> None:
    """In a freshly forked worker: ignore Ctrl-C (the parent stops it), die on SIGTERM/SIGHUP.

    A worker forked after its parent began to stop the others ends at once.
    """
    if not _STOPPING["on"]:
        return
    if _STOPPING["stopping"]:
        os._exit(1)
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
    kills every process it started through :mod:`multiprocessing`; the pool then stops
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
    here = os.getpid()

    def act(signum: int, frame) -> None:
        previous = before[signum]
        if callable(previous):
            previous(signum, frame)
            return
        signal.signal(signum, signal.SIG_DFL)  # what the signal would have done
        os.kill(os.getpid(), signum)

    def stop(signum: int, frame) -> None:
        # A worker forked a moment ago runs this until its own settings replace it.
        if os.getpid() != here or before[signum] == signal.SIG_IGN:
            return
        workers = multiprocessing.active_children()
        if not workers and not caught:  # no pool to stop: act now
            act(signum, frame)
            return
        # Raising here would cancel the pool's queued members while its manager thread
        # marks them failed (CPython 3.11 then prints an InvalidStateError); ending the
        # workers lets the pool fail on its own, and the signal acts once it has. They
        # are killed, not asked to end: a worker still between its fork and its own
        # signal settings would lose a SIGTERM. A second signal while the pool lets go
        # only kills what is left.
        caught.append(signum)
        _STOPPING["stopping"] = True
        for child in workers:
            child.kill()

    for s in signals:
        signal.signal(s, stop)
    _STOPPING["on"] = True
    try:
        yield
    except Exception:
        if not caught:
            raise
    finally:
        _STOPPING["on"] = _STOPPING["stopping"] = False
        for s, handler in before.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
    if caught:
        act(caught[0], None)
