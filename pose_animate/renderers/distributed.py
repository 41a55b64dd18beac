"""Data-parallel training on several GPUs of one machine (or, without GPUs, several CPU
processes) with PyTorch's own distributed engine.

`launch` starts one process per rank, as `torchrun --nproc-per-node` does (the job's GPUs are
CUDA_VISIBLE_DEVICES, one per rank; NCCL on GPUs, gloo on CPUs). When
a rank dies by a signal (killed, out of host memory), all ranks are stopped and started again
and resume from the last checkpoint, up to `MAX_RESTARTS` times; a rank's PoseAnimateError ends
the job with that error as it is.

Inside a rank, `Ranks` does what DistributedDataParallel does, for any family's training step
without changing it: the same weights on every rank at the start (broadcast from rank 0), each
rank's gradients averaged before every optimizer step (a pre-step hook on each of the step's
optimizers), so that W ranks of batch B take the steps one process of batch W x B would (as
long as a step draws no random numbers: every rank's generator starts from the same seed, and
today's families draw none); the losses averaged for the record. Rank 0 alone writes
checkpoints, logs and the model.
"""

import datetime
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist

from ..core.errors import PoseAnimateError
from ..core.runlog import log

MAX_RESTARTS = 3  # restarts of all ranks after one is killed; a deterministic error never
# The ranks import this package from where the job does (a workflow puts its checkout on
# sys.path; the package need not be installed).
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class Ranks:
    """This process's place among the ranks (rank, world) and their collectives. One rank
    alone (`Ranks.single()`) makes every collective a no-op."""

    def __init__(self, rank: int, world: int):
        self.rank, self.world = rank, world
        self.main = rank == 0

    @classmethod
    def single(cls):
        return cls(0, 1)

    def device(self, cuda: bool) -> torch.device:
        return torch.device(f"cuda:{self.rank}") if cuda else torch.device("cpu")

    def share_weights(self, modules) -> None:
        """Every parameter and buffer of `modules` as rank 0 has it."""
        if self.world == 1:
            return
        for module in modules:
            for tensor in [*module.parameters(), *module.buffers()]:
                dist.broadcast(tensor.data, 0)

    def average_gradients(self, optimizers) -> None:
        """Before each step of each optimizer, its gradients averaged over the ranks.

        A parameter without a gradient on every rank keeps none (as one process's optimizer
        skips it); one with a gradient on some ranks only counts zeros on the others."""
        if self.world == 1:
            return
        for optimizer in optimizers:
            optimizer.register_step_pre_hook(lambda opt, args, kwargs: self._average(opt))

    def _average(self, optimizer) -> None:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        if not params:
            return
        device = params[0].device
        has = torch.tensor([p.grad is not None for p in params], dtype=torch.float32,
                           device=device)
        dist.all_reduce(has, op=dist.ReduceOp.MAX)
        used = [p for p, h in zip(params, has.tolist()) if h]
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in used]
        flat = torch.cat([g.reshape(-1).float() for g in grads])  # one collective
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for p, g in zip(used, grads):
            n = g.numel()
            p.grad = flat[offset:offset + n].view_as(g).to(g.dtype)
            offset += n

    def mean(self, values: dict) -> dict:
        """{name: float} averaged over the ranks."""
        if self.world == 1:
            return values
        keys = sorted(values)
        t = torch.tensor([values[k] for k in keys], dtype=torch.float64)
        if dist.get_backend() == "nccl":
            t = t.cuda()
        dist.all_reduce(t)
        return {k: float(v) / self.world for k, v in zip(keys, t.tolist())}

    def first(self, work):
        """work() on rank 0, then on the others: for work that writes shared files (caches)
        or moves them. A rank 0 that fails ends the job (launch stops the waiting ranks)."""
        result = work() if self.main else None
        if self.world > 1:
            dist.barrier()
        return result if self.main else work()


def world_size(gpus: int, cuda_devices: int) -> int:
    """Ranks for a job asking for `gpus`: one per GPU, and as many CPU processes on a machine
    without GPUs (the CPU fallback: the same training, slower)."""
    if cuda_devices and gpus > cuda_devices:
        raise PoseAnimateError(
            f"the family asks for gpus: {gpus} and the job sees {cuda_devices} GPU(s).",
            fix="run snakemake with --resources gpu=N for N >= the family's gpus, or lower "
                "its gpus setting.")
    return gpus


def launch(target, args: tuple, world: int, run_dir, cuda: bool) -> None:
    """Run `target(ranks, *args)` (a module-level function) in `world` processes, one per
    rank (`cuda`: one GPU each, NCCL; else CPU processes, gloo), and wait for them (see the
    module's docstring for failures and restarts).

    The ranks are fresh interpreters (`python -m pose_animate.renderers.distributed JOB`, as
    torchrun starts its workers), not forks or multiprocessing children: those would re-run
    the workflow script that called this."""
    folder = Path(run_dir) / "ranks"
    folder.mkdir(parents=True, exist_ok=True)
    log_files = [h.baseFilename for h in log.handlers if isinstance(h, logging.FileHandler)]
    job = folder / "job.pkl"
    with open(job, "wb") as f:
        pickle.dump({"target": target, "args": args, "log_files": log_files, "cuda": cuda}, f)
    for attempt in range(MAX_RESTARTS + 1):
        for old in folder.glob("error_rank*.pkl"):
            old.unlink()
        env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()),
               "WORLD_SIZE": str(world),
               "PYTHONPATH": os.pathsep.join(filter(None, [_PACKAGE_ROOT,
                                                           os.environ.get("PYTHONPATH")]))}
        procs = [subprocess.Popen([sys.executable, "-m", __name__, str(job)],
                                  env={**env, "RANK": str(r), "LOCAL_RANK": str(r)})
                 for r in range(world)]
        failed = _wait(procs)
        if failed is None:
            return
        rank, code = failed
        if code >= 0 or attempt == MAX_RESTARTS:
            _raise_rank_error(folder, rank, code)
        log.warning("rank %d was stopped by %s: starting the %d ranks again from the last "
                    "checkpoint (restart %d of %d)", rank, signal.Signals(-code).name, world,
                    attempt + 1, MAX_RESTARTS)


def _wait(procs) -> tuple[int, int] | None:
    """Wait for every rank; at the first that fails, stop the others and return (its rank,
    its return code: negative for a signal)."""
    try:
        while True:
            codes = [p.poll() for p in procs]
            bad = [(r, c) for r, c in enumerate(codes) if c not in (None, 0)]
            if bad or all(c == 0 for c in codes):
                break
            time.sleep(0.2)
    finally:
        for p in procs:  # the survivors of a failure (or all, when this process is stopped)
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    # a rank killed by a signal first: the others then fail on its closed connection
    return sorted(bad, key=lambda rank_code: rank_code[1] >= 0)[0] if bad else None


def _raise_rank_error(folder: Path, rank: int, code: int):
    for path in sorted(folder.glob("error_rank*.pkl")):
        with open(path, "rb") as f:
            raise pickle.load(f)
    how = f"was stopped by {signal.Signals(-code).name}" if code < 0 else f"exited with {code}"
    raise PoseAnimateError(f"training rank {rank} {how}.",
                           fix="see the log above for its traceback (a rank killed by a signal "
                               f"is restarted {MAX_RESTARTS} times; it was each time).")


def _worker(job_file: str) -> None:
    """A rank's process: its place from the environment (RANK, WORLD_SIZE, MASTER_*)."""
    with open(job_file, "rb") as f:
        job = pickle.load(f)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    _rank_logging(rank, job["log_files"])
    if job["cuda"]:
        torch.cuda.set_device(rank)
    # Long enough for rank 0 to fill a large subject's frame cache while the others wait in
    # Ranks.first (the defaults, 10 min for NCCL, would abort them); a dead rank is seen by
    # launch within a second anyway.
    dist.init_process_group("nccl" if job["cuda"] else "gloo", rank=rank, world_size=world,
                            timeout=datetime.timedelta(hours=3))
    try:
        job["target"](Ranks(rank, world), *job["args"])
    except PoseAnimateError as exc:  # the job reports it (launch raises it again)
        with open(Path(job_file).parent / f"error_rank{rank}.pkl", "wb") as f:
            pickle.dump(exc, f)
        sys.exit(1)
    except Exception:
        log.exception("rank %d failed", rank)  # its traceback, in the job's log
        sys.exit(1)
    finally:
        dist.destroy_process_group()


def _rank_logging(rank: int, log_files) -> None:
    """A rank logs to the job's log and stderr as the job does; ranks other than 0 only
    their warnings and errors, marked with their rank."""
    fmt = logging.Formatter(f"%(asctime)s %(levelname)s {'' if rank == 0 else f'rank {rank}: '}"
                            "%(message)s", "%H:%M:%S")
    for handler in [logging.StreamHandler(sys.stderr),
                    *(logging.FileHandler(p, mode="a") for p in log_files)]:
        handler.setFormatter(fmt)
        log.addHandler(handler)
    log.setLevel(logging.INFO if rank == 0 else logging.WARNING)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    _worker(sys.argv[1])
