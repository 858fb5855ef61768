"""Where the chunks of a scan run: in this process, or on a Dask cluster.

An executor has ``map_unordered(fn, items)``, which yields ``fn(item)`` for every item (in any
order), ``describe()`` and ``close()``, and works as a context manager. Only the process that runs
the scan writes files, so Dask workers need no shared disk.
"""

from __future__ import annotations

import os

__all__ = ["DaskExecutor", "LocalExecutor"]


class LocalExecutor:
    """Runs the jobs in this process, one after the other (the solver and the network use every core).

    ``map_unordered(fn, items)`` yields ``fn(item)`` for every item; here in order.
    """

    def map_unordered(self, fn, items):
        for item in items:
            yield fn(item)

    def describe(self) -> str:
        return "local (in-process, sequential)"

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise ValueError(
            "the Dask executor needs dask.distributed, which is not installed: "
            "pip install 'dask[distributed]' (or gslib[scan])"
        ) from None
    return distributed


class DaskExecutor:
    """Runs the jobs on a Dask cluster and yields their results as they complete.

    Workers need gslib installed; Dask is imported only here.

    Parameters
    ----------
    address : str, optional
        A scheduler address (``tcp://host:8786``), or ``"local"`` / ``"local:N"`` to start a
        local cluster of N worker processes (default: one per 2 cores) with one thread each,
        closed by :meth:`close`.
    client : distributed.Client, optional
        An existing client instead.
    retries : int
        How often Dask reruns a job that raised.

    Raises
    ------
    ValueError
        If dask.distributed is not installed, the address is malformed, or the scheduler cannot
        be reached.
    """

    def __init__(self, address: str | None = None, *, client=None, retries: int = 0):
        distributed = _import_distributed()
        self._cluster = None
        self.retries = int(retries)
        if client is not None:
            self.client, self._own_client = client, False
            return
        if address is None or str(address).startswith("local"):
            text = str(address or "local")
            count = text.partition(":")[2]
            if count and not count.isdigit():
                raise ValueError(f"scheduler {text!r}: expected 'local' or 'local:N' with N a positive integer")
            n = int(count) if count else max(1, (os.cpu_count() or 2) // 2)
            if n < 1:
                raise ValueError(f"scheduler {text!r}: needs at least one worker")
            self._cluster = distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = distributed.Client(self._cluster)
        else:
            try:
                self.client = distributed.Client(address, timeout="30s")
            except OSError as exc:
                raise ValueError(f"cannot reach the Dask scheduler at {address!r}: {exc}") from None
        self._own_client = True

    def map_unordered(self, fn, items):
        from distributed import as_completed

        items = list(items)
        if not items:
            return
        futures = self.client.map(fn, items, pure=False, retries=self.retries)
        pending = set(futures)
        try:
            for future in as_completed(futures):
                result = future.result()
                pending.discard(future)
                future.release()
                yield result
        finally:
            if pending:  # the consumer stopped early or a job failed: do not leave work running
                self.client.cancel(list(pending))

    def describe(self) -> str:
        workers = self.client.scheduler_info().get("workers", {})
        return f"dask ({self.client.scheduler.address}, {len(workers)} workers)"

    def close(self) -> None:
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
