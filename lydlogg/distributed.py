"""The ``ray`` executor: the batch's heavy stage on a pool of long-lived Ray actors.

Each actor resolves and loads the model once (on its own node, so a GPU node decodes with
float16) and then runs :class:`lydlogg.batch.CallWorker` on one call at a time. The driver
(``lydlogg process``) keeps one call in flight per worker, ships the recording's bytes (or its
path, ``executor.ship = "path"``) and yields each result as it arrives; the batch's writer stores
it. Workers never open the database.

Faults: a worker that dies mid-call (process killed, node lost, out of memory) is replaced by a
fresh actor and the call is sent again, up to ``executor.max_retries`` times; after that the call
comes back as a failure at stage ``transcribe`` whose reason says the Ray worker died. Actors
belong to the driver's Ray job, so a killed driver takes its actors with it and leaves the cluster
free for the next run.

Ray is an optional dependency (``pip install 'lydlogg[ray]'``) imported only here.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lydlogg.batch import CallResult, CallWorker, PendingCall, asr_options, model_key
from lydlogg.settings import Settings
from transcription import AsrOptions, ModelSpec, resolve_model

__all__ = ["FAILED_STAGE", "NAMESPACE", "ExecutorError", "RayPool", "WorkerInfo"]

log = logging.getLogger(__name__)

NAMESPACE = "lydlogg"  # Ray namespace of the workers (named ``lydlogg-<run>-w<slot>-<generation>``)
# The ``failures.stage`` a call gets when its worker died too often or raised: the heavy stage the
# worker was running (the table's CHECK accepts ingest, metadata, decode, transcribe, import, score).
FAILED_STAGE = "transcribe"


class ExecutorError(RuntimeError):
    """The Ray executor cannot start: Ray missing, cluster unreachable, or workers that disagree."""


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker reports once its model is loaded; the driver checks it matches its own."""

    pid: int
    node: str
    model_key: str
    options: AsrOptions
    software: str
    cpu_threads: int


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise ExecutorError(
            "executor.kind = 'ray' needs Ray: install the extra with `pip install 'lydlogg[ray]'` "
            "(or `make ray`), or set executor.kind = 'local'"
        ) from e
    return ray


class _Worker:
    """The body of one Ray actor: a :class:`CallWorker` and its model, loaded once."""

    def __init__(self, settings: Settings) -> None:
        from lydlogg.batch import _software_version

        logging.basicConfig(level=settings.log_level)
        if settings.asr.offline:
            os.environ["HF_HUB_OFFLINE"] = "1"
        spec: ModelSpec = resolve_model(
            settings.asr.model, models_dir=settings.asr.models_dir, offline=settings.asr.offline
        )
        options = asr_options(settings)
        executor = settings.executor
        threads = settings.asr.cpu_threads or max(1, math.ceil(executor.cpus_per_worker))
        self._worker = CallWorker.load(settings, spec, options, cpu_threads=threads)
        self._current: str | None = None
        self._tmp = _scratch_dir()
        import ray

        self.info_ = WorkerInfo(
            pid=os.getpid(),
            node=ray.get_runtime_context().get_node_id(),
            model_key=model_key(spec),
            options=options,
            software=_software_version(),
            cpu_threads=threads,
        )

    def info(self) -> WorkerInfo:
        return self.info_

    def busy(self) -> str | None:
        """The call being processed now, if any (answers while a call runs: two threads)."""
        return self._current

    def run(self, call: PendingCall, data: bytes | None) -> CallResult:
        self._current = call.call_id
        try:
            if data is None:
                return self._worker.run(call)
            copy = self._tmp / Path(call.path).name
            copy.write_bytes(data)
            try:
                return self._worker.run(call, copy)
            finally:
                copy.unlink(missing_ok=True)
        finally:
            self._current = None


class RayPool:
    """Long-lived Ray actors that each hold the model; :meth:`map` runs calls on them."""

    def __init__(self, ray: Any, settings: Settings, owns_ray: bool, tag: str) -> None:
        self._ray = ray
        self._settings = settings
        self._owns_ray = owns_ray
        self._tag = tag
        self._actor_class = ray.remote(_Worker)
        self._generation = 0
        self._actors: list[Any] = []
        self.workers: list[WorkerInfo] = []
        self.options = AsrOptions()
        self.replaced = 0

    @property
    def size(self) -> int:
        return len(self._actors)

    @classmethod
    def start(cls, settings: Settings, spec: ModelSpec, *, software_version: str) -> RayPool:
        """Join (or start) Ray, start ``executor.workers`` actors and wait until each has its model.

        Raises :class:`ExecutorError` when a worker's model, decoding options or software differ
        between workers or from the driver's: results from them would not share cache keys.
        """
        ray = _import_ray()
        executor = settings.executor
        owns = not ray.is_initialized()
        if owns:
            kwargs: dict[str, Any] = {
                "address": executor.address,
                "namespace": NAMESPACE,
                "log_to_driver": False,
                "logging_level": logging.WARNING,
                "runtime_env": {"env_vars": _worker_env()},
            }
            if executor.address == "local":
                kwargs |= {"include_dashboard": False, "num_cpus": executor.local_cpus or None}
            try:
                ray.init(**kwargs)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise ExecutorError(
                    f"cannot reach Ray at executor.address = {executor.address!r}: {e}; accepted: `local` "
                    "(a private instance on this machine), `auto` (the cluster started here with "
                    "`ray start`) or `host:port` of a head node"
                ) from e
        import uuid

        pool = cls(ray, settings, owns, uuid.uuid4().hex[:8])
        try:
            pool._actors = [pool._spawn(slot) for slot in range(executor.workers)]
            try:
                pool.workers = ray.get(
                    [a.info.remote() for a in pool._actors], timeout=executor.start_timeout_s
                )
            except ray.exceptions.GetTimeoutError as e:
                raise ExecutorError(
                    f"{executor.workers} Ray worker(s) did not start within {executor.start_timeout_s:g} s; "
                    f"the cluster may lack {executor.cpus_per_worker:g} CPU(s) and "
                    f"{executor.gpus_per_worker:g} GPU(s) per worker (ray.cluster_resources(): "
                    f"{_resources(ray)})"
                ) from e
            except ray.exceptions.RayError as e:
                raise ExecutorError(f"a Ray worker could not load the model: {_cause(e)}") from e
            pool._check(model_key(spec), software_version)
        except BaseException:
            pool.close()
            raise
        nodes = len({w.node for w in pool.workers})
        log.info(
            "Ray pool: %d worker(s) on %d node(s), %s/%s, %d thread(s) each",
            pool.size,
            nodes,
            pool.options.device,
            pool.options.compute_type,
            pool.workers[0].cpu_threads,
        )
        return pool

    def _check(self, key: str, software: str) -> None:
        first = self.workers[0]
        for w in self.workers:
            if w.model_key != key:
                raise ExecutorError(
                    f"worker on node {w.node[:8]} has model {w.model_key}, the driver {key}: "
                    "give every node the same model files"
                )
            if w.options != first.options:
                raise ExecutorError(
                    f"workers decode with different options ({w.options.device}/{w.options.compute_type} "
                    f"vs {first.options.device}/{first.options.compute_type}); set asr.device and "
                    "asr.compute_type explicitly for a mixed cluster"
                )
            if w.software != software:
                raise ExecutorError(
                    f"worker on node {w.node[:8]} runs {w.software!r}, the driver {software!r}: "
                    "install the same Lydlogg and faster-whisper on every node"
                )
        self.options = first.options

    def _spawn(self, slot: int) -> Any:
        executor = self._settings.executor
        self._generation += 1
        return self._actor_class.options(
            name=f"lydlogg-{self._tag}-w{slot}-{self._generation}",
            namespace=NAMESPACE,
            num_cpus=executor.cpus_per_worker,
            num_gpus=executor.gpus_per_worker,
            max_restarts=0,
            max_task_retries=0,
            max_concurrency=2,  # ``busy``/``info`` answer while ``run`` works
        ).remote(self._settings)

    def _payload(self, call: PendingCall) -> tuple[bytes | None, CallResult | None]:
        if self._settings.executor.ship == "path":
            return None, None
        try:
            return Path(call.path).read_bytes(), None
        except FileNotFoundError:
            reason = f"{call.path}: no such file"
        except OSError as e:
            reason = f"{call.path}: cannot be read ({type(e).__name__}: {e})"
        return None, CallResult(call.call_id, call.duration_s, failed_stage="decode", reason=reason)

    def map(self, calls: list[PendingCall]) -> Iterator[tuple[PendingCall, CallResult, int]]:
        """Run ``calls`` on the pool; yield ``(call, result, attempts)`` in the order they finish."""
        ray = self._ray
        queue = deque(calls)
        attempts: dict[str, int] = {}
        in_flight: dict[Any, tuple[int, PendingCall]] = {}
        idle = deque(range(self.size))
        while queue or in_flight:
            while queue and idle:
                call = queue.popleft()
                data, unreadable = self._payload(call)
                if unreadable is not None:
                    yield call, unreadable, attempts.get(call.call_id, 0) + 1
                    continue
                slot = idle.popleft()
                attempts[call.call_id] = attempts.get(call.call_id, 0) + 1
                in_flight[self._actors[slot].run.remote(call, data)] = (slot, call)
            if not in_flight:
                continue
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                slot, call = in_flight.pop(ref)
                tries = attempts[call.call_id]
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayActorError as e:  # the worker died mid-call
                    self._replace(slot)
                    if tries <= self._settings.executor.max_retries:
                        log.warning(
                            "worker %d died during call %s (%s); retrying on a fresh worker",
                            slot,
                            call.call_id,
                            type(e).__name__,
                        )
                        queue.appendleft(call)
                        idle.append(slot)
                        continue
                    result = CallResult(
                        call.call_id,
                        call.duration_s,
                        failed_stage=FAILED_STAGE,
                        reason=f"Ray worker died {tries} time(s) on this call: {type(e).__name__}: {_cause(e)}",
                    )
                except ray.exceptions.RayTaskError as e:  # an error the heavy stage did not expect
                    result = CallResult(
                        call.call_id,
                        call.duration_s,
                        failed_stage=FAILED_STAGE,
                        reason="Ray worker: "
                        + (f"{type(e.cause).__name__}: {e.cause}" if e.cause else _cause(e)),
                    )
                idle.append(slot)
                yield call, result, tries

    def _replace(self, slot: int) -> None:
        old = self._actors[slot]
        with contextlib.suppress(Exception):  # the old actor is gone either way
            self._ray.kill(old, no_restart=True)
        self._actors[slot] = self._spawn(slot)
        self.replaced += 1

    def close(self) -> None:
        """Stop the actors, and Ray itself when this pool started it."""
        for actor in self._actors:
            with contextlib.suppress(Exception):  # best effort on the way out
                self._ray.kill(actor, no_restart=True)
        self._actors = []
        if self._owns_ray:
            self._ray.shutdown()


def _scratch_dir() -> Path:
    """This worker's folder for the recording it works on: in memory (/dev/shm) where there is
    one, so health data does not touch the node's disk. Folders of dead workers (killed mid-call,
    so their copy was never removed) are removed first."""
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())
    for old in base.glob("lydlogg-worker-*"):
        try:
            pid = int(old.name.rsplit("-", 1)[1])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(old, ignore_errors=True)
        except (ValueError, PermissionError):
            continue  # not ours, or another user's live process
    folder = base / f"lydlogg-worker-{os.getpid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _resources(ray: Any) -> str:
    total = ray.cluster_resources()
    return ", ".join(f"{k} {v:g}" for k, v in sorted(total.items()) if k in ("CPU", "GPU")) or "none"


def _cause(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[-1][:300] if text else type(error).__name__


def _worker_env() -> dict[str, str]:
    """Environment for the workers: this Lydlogg's source folder first on their import path."""
    import lydlogg

    root = str(Path(lydlogg.__file__).resolve().parent.parent)
    paths = [root, *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != root)]
    env = {"PYTHONPATH": os.pathsep.join(paths)}
    if "HF_HUB_OFFLINE" in os.environ:
        env["HF_HUB_OFFLINE"] = os.environ["HF_HUB_OFFLINE"]
    return env
