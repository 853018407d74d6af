"""The server's one inference queue: each upload's decoding and inference run as one job on a small thread pool.

An upload's header is checked as soon as it has arrived (:func:`shelfscan.serve.limits.probe_upload`), then
:class:`JobQueue` queues the decoding *and* the work as one job on ``workers`` threads: at most ``workers`` photos
are decoded at a time, whatever the burst. At most ``max_queue`` jobs wait (503 beyond), each at most
``timeout_s`` (503 beyond). A job whose request timed out is cancelled: before it starts, or at its next step
(decode, each network layer run by PyTorch, drawing).
"""
from __future__ import annotations

import asyncio
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from fastapi import UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from shelfscan.serve.limits import decode_upload, probe_upload


class JobCancelled(Exception):
    """Raised inside an inference job whose request has already been answered (timed out): stop working."""


class _Job:
    """Deadline of one queued job; :meth:`check` raises :class:`JobCancelled` once it has passed or the request
    gave up. While a job runs, PyTorch modules check it before every forward (see :func:`_torch_checks`)."""

    current = threading.local()

    def __init__(self, timeout_s: float) -> None:
        self.deadline = time.monotonic() + timeout_s
        self.cancelled = False

    def check(self) -> None:
        if self.cancelled or time.monotonic() > self.deadline:
            raise JobCancelled("the request timed out; its job stops here")


_HOOK = {"users": 0, "handle": None}
_HOOK_LOCK = threading.Lock()


def _check_current_job(module, args) -> None:
    job = getattr(_Job.current, "job", None)
    if job is not None:
        job.check()


class _torch_checks:
    """While a job runs: a global PyTorch forward-pre-hook checks the job of the calling thread before each
    module, so a timed-out job stops within one layer. Registered only while jobs run (nothing is added to other
    uses of torch in the process, e.g. an ONNX export), and only when torch is already imported."""

    def __init__(self, job: _Job) -> None:
        self.job = job
        self.torch = sys.modules.get("torch")

    def __enter__(self):
        _Job.current.job = self.job
        if self.torch is not None:
            with _HOOK_LOCK:
                if _HOOK["users"] == 0:
                    _HOOK["handle"] = self.torch.nn.modules.module.register_module_forward_pre_hook(_check_current_job)
                _HOOK["users"] += 1
        return self

    def __exit__(self, *exc) -> None:
        _Job.current.job = None
        if self.torch is not None:
            with _HOOK_LOCK:
                _HOOK["users"] -= 1
                if _HOOK["users"] == 0 and _HOOK["handle"] is not None:
                    _HOOK["handle"].remove()
                    _HOOK["handle"] = None


def _release_memory() -> None:
    """Hand freed heap pages back to the OS after a large photo (glibc keeps them otherwise); no-op elsewhere."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class JobQueue:
    """``workers`` inference threads, at most ``max_queue`` waiting jobs, each answered within ``timeout_s``.

    ``work(rgb, job, *args) -> dict`` gets the decoded upload (uint8 ``(H, W, 3)``) and the job (call
    ``job.check()`` between steps); its dict's ``"image"`` entry, when a dict, gains the photo's width and height.
    """

    def __init__(self, *, workers: int, max_queue: int, timeout_s: float, max_bytes: int, max_pixels: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shelfscan-infer")
        self.max_queue, self.timeout_s = max_queue, timeout_s
        self.max_bytes, self.max_pixels = max_bytes, max_pixels
        self.waiting = 0

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _job(self, state: _Job, file, work: Callable[..., dict], args: tuple) -> tuple[dict, float]:
        """On the inference pool: read and decode the upload, then ``work(rgb, job, *args)`` -> its JSON dict."""
        with _torch_checks(state):
            state.check()  # the request gave up while this job waited: never start it
            t0 = time.perf_counter()
            file.seek(0)
            rgb = decode_upload(file.read(self.max_bytes + 1), max_bytes=self.max_bytes, max_pixels=self.max_pixels)
            decode_ms = (time.perf_counter() - t0) * 1e3
            try:
                state.check()
                out = work(rgb, state, *args)
                out["image"] = {**out["image"], "width": int(rgb.shape[1]), "height": int(rgb.shape[0])} \
                    if isinstance(out.get("image"), dict) else out.get("image")
                return out, decode_ms
            finally:
                big = rgb.size > 3 * 2**24  # more than 16 MP
                del rgb
                if big:
                    _release_memory()

    async def run(self, upload: UploadFile, work: Callable[..., dict], *args: Any) -> tuple[dict, float]:
        """Check the upload's header now, then queue its decoding and ``work`` as one job on the inference pool;
        503 when the queue is full or the job takes over ``timeout_s`` (then it is cancelled).

        Returns: (``work``'s dict, decoding time in ms)."""
        await run_in_threadpool(probe_upload, upload.file, max_bytes=self.max_bytes, max_pixels=self.max_pixels)
        if self.waiting >= self.max_queue:
            raise StarletteHTTPException(503, f"server busy: expected fewer than {self.max_queue} queued requests, "
                                              f"got {self.waiting}; retry later", headers={"Retry-After": "5"})
        self.waiting += 1
        state = _Job(self.timeout_s)
        try:
            future = asyncio.get_running_loop().run_in_executor(self.pool, self._job, state, upload.file, work, args)
            return await asyncio.wait_for(future, self.timeout_s)
        except (asyncio.TimeoutError, JobCancelled):  # (the job may see its deadline a moment before we do)
            state.cancelled = True  # a queued job never starts; a running one stops at its next check
            raise StarletteHTTPException(503, f"processing: expected a result within {self.timeout_s:g} s, got "
                                              "none (server busy or image too hard); retry later",
                                         headers={"Retry-After": "5"}) from None
        except MemoryError:
            raise StarletteHTTPException(503, "processing: expected enough memory for this image, got too little; "
                                              "retry later or send a smaller photo") from None
        finally:
            self.waiting -= 1
