"""Data-parallel training on several processes, through MPI (``mpi4py``).

Every process (a *rank*) holds a full copy of the model and trains on its own slice of
each global batch. After ``loss.backward()`` the gradients are averaged over the ranks by
one allreduce, so every rank applies the same update and the copies stay identical::

    g = (1 / W) * sum over ranks r of g_r        (W = world size)

With a loss that is a mean over the samples and equal slices of B / W samples per rank,
``g`` is the gradient of the mean loss over the whole global batch of B samples: the
same step one process takes with batch B, up to floating-point rounding.

The names are PyTorch's ``torch.distributed`` ones: ``init_process_group``,
``get_rank``, ``get_world_size``, ``barrier``, ``all_reduce``, ``broadcast``,
``DistributedDataParallel``, and ``shendu.data.DistributedSampler``. Launch a script
with ``mpiexec -n 2 python -m mpi4py train.py`` (``-m mpi4py`` aborts every rank when
one raises, instead of leaving the others waiting). Without mpi4py, or run as a plain
``python train.py``, the world is a single process of rank 0 and every call here does
nothing or the identity, so the same script runs alone.

>>> import shendu
>>> from shendu import distributed as dist, nn
>>> dist.get_rank(), dist.get_world_size(), dist.is_main_process()
(0, 1, True)
>>> model = dist.DistributedDataParallel(nn.Linear(3, 1))
>>> model(shendu.ones(2, 3)).sum().backward()   # gradients averaged over the ranks
>>> model.module.weight.grad.shape
(1, 3)

See docs/distributed.md for launching on one machine and on a cluster.
"""
from .group import (INSTALL_HINT, ProcessGroup, ReduceOp, all_reduce, barrier, broadcast,
                    destroy_process_group, get_rank, get_world_size, init_process_group,
                    is_available, is_initialized, is_main_process, main_print, rank_zero_only,
                    require_mpi4py)
from .ddp import DistributedDataParallel, main_save
from .callback import DistributedCallback

__all__ = ["init_process_group", "destroy_process_group", "is_initialized", "is_available",
           "get_rank", "get_world_size", "barrier", "all_reduce", "broadcast", "ReduceOp",
           "ProcessGroup", "DistributedDataParallel", "DistributedCallback",
           "is_main_process", "rank_zero_only", "main_print", "main_save", "require_mpi4py", "INSTALL_HINT"]
