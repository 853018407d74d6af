"""Where the photos are counted: a local process pool, or a Ray Data pipeline (``[ray]`` extra).

Both engines run the same :class:`~shelfscan.batch.worker.PhotoCounter` with the same number of ONNX Runtime
threads per worker, so they give the same records; both yield :class:`PhotoResult` in completion order and only
the driver writes them.

Ray design (after Ray's known issues with many paths: ``read_images`` on millions of paths spends hours resolving
file metadata in the driver, ray-project/ray#40686, and reading the files inside ``map_batches`` from their path
names is faster, #37499): the dataset is built from an Arrow table of path strings (``from_arrow``, blocks of
:data:`RAY_BLOCK` paths, no file metadata fetched), and each actor reads, decodes and counts its photos itself,
so no pixels ever enter the object store; what comes back per photo is its JSON line and the type embeddings
(tens of KB). The streaming executor's backpressure bounds what is in flight.
"""
from __future__ import annotations

import math
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Iterator, Sequence

from shelfscan.batch.settings import CountSettings
from shelfscan.batch.worker import PhotoCounter, PhotoResult
from shelfscan.errors import InputError

RAY_BLOCK = 256  # most paths per Ray block
RAY_BLOCKS_PER_ACTOR = 4  # a short list is cut finer, so every actor gets blocks (Ray runs one task per block)
_COUNTER: PhotoCounter | None = None  # the models of one local worker process


@dataclass(frozen=True)
class EngineConfig:
    """How to run a batch.

    Attributes:
        engine: ``"local"`` (process pool; 1 worker runs in the driver process) or ``"ray"``.
        workers: parallel counters (processes or Ray actors).
        threads: ONNX Runtime threads of each counter.
        ray_address: Ray cluster to join (None: start a local Ray in this process with ``workers * threads``
            CPUs).
    """

    engine: str = "local"
    workers: int = 1
    threads: int = 1
    ray_address: str | None = None

    def __post_init__(self) -> None:
        if self.engine not in ("local", "ray"):
            raise InputError(f"--engine: expected 'local' or 'ray', got {self.engine!r}")
        if self.workers < 1 or self.threads < 1:
            raise InputError(f"--workers/--threads: expected integers >= 1, got {self.workers}/{self.threads}")


def default_threads(workers: int) -> int:
    """CPU threads per worker: this machine's CPUs shared between the workers (at least 1)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cpus // workers)


def _init_worker(settings: CountSettings, model: str, threads: int) -> None:
    global _COUNTER
    _COUNTER = PhotoCounter(settings, model, threads)


def _count_one(path: str) -> PhotoResult:
    return _COUNTER(path)


def run_local(paths: Sequence[str], settings: CountSettings, model: str, cfg: EngineConfig) -> Iterator[PhotoResult]:
    """Count ``paths`` in ``cfg.workers`` processes (spawned: no model state is forked), at most 2 photos in
    flight per worker; 1 worker counts in this process."""
    if cfg.workers == 1:
        counter = PhotoCounter(settings, model, cfg.threads)
        for path in paths:
            yield counter(path)
        return
    import multiprocessing

    todo = iter(paths)
    with ProcessPoolExecutor(cfg.workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_init_worker, initargs=(settings, model, cfg.threads)) as pool:
        running = {pool.submit(_count_one, p) for _, p in zip(range(2 * cfg.workers), todo)}
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                nxt = next(todo, None)
                if nxt is not None:
                    running.add(pool.submit(_count_one, nxt))


class RayCounter:
    """The Ray actor's UDF: loads the models once, with ONNX Runtime threads = the CPUs Ray gave the actor."""

    def __init__(self, settings: CountSettings, model: str, threads: int) -> None:
        import ray

        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
        self.counter = PhotoCounter(settings, model, int(cpus) if cpus else threads)

    def __call__(self, batch: dict) -> dict:
        results = [self.counter(str(p)) for p in batch["path"]]
        return {"line": [r.line for r in results], "embeddings": [r.embeddings for r in results]}


def import_ray():
    """``ray`` and ``ray.data``, or InputError saying how to install them."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise InputError(f"--engine ray: expected Ray Data installed (pip install 'shelfscan[ray]'), got "
                         f"{exc}") from None
    return ray


def run_ray(paths: Sequence[str], settings: CountSettings, model: str, cfg: EngineConfig) -> Iterator[PhotoResult]:
    """Count ``paths`` with a Ray Data pipeline: ``map_batches`` on a pool of ``cfg.workers`` actors of
    ``cfg.threads`` CPUs each. Starts a local Ray (and shuts it down after) unless one runs or an address is
    given."""
    ray = import_ray()
    import pyarrow as pa

    started = False
    if not ray.is_initialized():
        options = {"address": cfg.ray_address} if cfg.ray_address else {
            "num_cpus": cfg.workers * cfg.threads, "include_dashboard": False}
        ray.init(log_to_driver=False, configure_logging=False, **options)
        started = True
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False  # the batch shows its own bar
        size = max(1, min(RAY_BLOCK, math.ceil(len(paths) / (RAY_BLOCKS_PER_ACTOR * cfg.workers))))
        blocks = [pa.table({"path": list(paths[i:i + size])}) for i in range(0, len(paths), size)]
        ds = ray.data.from_arrow(blocks).map_batches(
            RayCounter, fn_constructor_kwargs={"settings": settings, "model": model, "threads": cfg.threads},
            batch_size=1, num_cpus=cfg.threads, compute=ray.data.ActorPoolStrategy(size=cfg.workers),
            batch_format="numpy")
        for row in ds.iter_rows():
            yield PhotoResult(str(row["line"]), bytes(row["embeddings"]))
    finally:
        if started:
            ray.shutdown()


def run_engine(paths: Sequence[str], settings: CountSettings, model: str,
               cfg: EngineConfig) -> Iterator[PhotoResult]:
    """The results of ``paths`` from the configured engine (nothing to do: nothing started)."""
    if not paths:
        return iter(())
    return (run_ray if cfg.engine == "ray" else run_local)(paths, settings, model, cfg)
