"""Where sim.runner sends a sweep's runs: nowhere (in-process), a local pool of worker
processes, or a Dask cluster.

The local pool is loky's reusable executor. Its workers are fresh interpreters that never
import the caller's `__main__` (a script needs no `if __name__ == "__main__":` guard). When
one dies (killed, out of memory) loky fails every run the pool held, and the next
`get_reusable_executor` is a fresh pool, to which the runner sends those runs again.
"""

import gc
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor, Executor
from contextlib import contextmanager

from loky import get_reusable_executor
from loky.backend.context import LokyContext

# loky's start method, not looked up by its name: the copy of loky inside joblib (which
# scikit-learn imports) registers its own under the same name, and the last import wins.
_LOKY = LokyContext()


class ExecutorError(RuntimeError):
    """An executor that cannot be had: Dask not installed, a scheduler not reachable."""


def limit_threads() -> None:
    """One BLAS/OpenMP thread per worker process: the workers are the parallelism."""
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def freeze_startup_objects() -> None:
    """Leave the objects made so far, mostly the imported modules' (Mesa, pandas,
    matplotlib, numba), out of the garbage collector's full passes, which would otherwise
    walk them all a few times a run (0.1 s each, 0.8 s of the paper config's 9.5). Call it
    before any run's objects exist: a frozen cycle is never collected."""
    gc.freeze()


def start_worker(sweep: int) -> None:
    """Set up a pool worker: one thread for BLAS, the runs' modules imported and frozen,
    and exit once the sweep's process (pid `sweep`) is gone. loky's workers outlive a
    SIGKILLed parent: they would run the runs already queued to them, into a folder a
    `--resume` may be writing, then idle on."""
    limit_threads()
    import sim.results  # noqa: F401  (what every run needs, imported before the freeze)
    import sim.simulation  # noqa: F401

    freeze_startup_objects()
    threading.Thread(target=_exit_without, args=(sweep,), daemon=True).start()


def _exit_without(sweep: int) -> None:
    while os.getppid() == sweep:  # an orphan is adopted by another process
        time.sleep(0.1)
    os._exit(1)


class LocalPool(Executor):
    """`jobs` worker processes on this machine (they share its file system): loky's reusable
    executor, which loky keeps one of per thread, and replaces once it is broken."""

    def __init__(self, jobs: int):
        self.jobs = jobs

    def _executor(self):
        return get_reusable_executor(
            self.jobs, context=_LOKY, initializer=start_worker, initargs=(os.getpid(),)
        )

    def submit(self, fn, /, *args, **kwargs):
        try:
            return self._executor().submit(fn, *args, **kwargs)
        except BrokenExecutor:  # it broke since it was handed out: the next one is fresh
            return self._executor().submit(fn, *args, **kwargs)

    def shutdown(self, wait=True, *, cancel_futures=False):
        self._executor().shutdown(wait=wait, kill_workers=cancel_futures)


@contextmanager
def make_executor(
    jobs: int | None = None, kind: str = "processes", scheduler: str | None = None
) -> Iterator[Executor | None]:
    """None (run in-process) for one local job, else a pool of `jobs` local worker processes,
    or with kind "dask" a Dask client's executor: the cluster at `scheduler`, or a local one
    of `jobs` (default 2) single-threaded worker processes.

    A pool's workers are stopped when the block ends, any still running killed: a run still
    queued when a sweep failed or was interrupted would write into its folder after the
    sweep let go of it (sim.results_folder.held)."""
    if kind == "dask":
        with _dask_executor(jobs or 2, scheduler) as executor:
            yield executor
    elif jobs and jobs > 1:
        pool = LocalPool(jobs)
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        yield None


@contextmanager
def _dask_executor(jobs: int, scheduler: str | None) -> Iterator[Executor]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError(
            "--executor dask needs Dask distributed: pip install 'decai-sim[dask]'"
        ) from None
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(
                n_workers=jobs,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: never "port 8787 is in use"
            )
            client = Client(cluster)
    except (OSError, ValueError) as error:
        if cluster is not None:
            cluster.close()
        what = f"connect to the Dask scheduler {scheduler}" if scheduler else "start Dask"
        raise ExecutorError(f"cannot {what}: {error}") from None
    try:
        client.run(limit_threads)
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def check_executor(executor) -> None:
    """Refuse what is not an executor before anything is written."""
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor: not a concurrent.futures Executor ({type(executor).__name__})")
