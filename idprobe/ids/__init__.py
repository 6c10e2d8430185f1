"""ID strategies: how users and items are written as tokens (RID, SID, CID, IID, META ID, RQ-VAE, files).

Every strategy is registered by name; ``get_strategy("meta", n_clusters=50)`` makes one, and
``strategy.assign(split.training_view, seed)`` returns an :class:`IdAssignment`. Importing this
package loads no torch, numba or gensim: they are imported when a strategy needs them.
"""

from idprobe.ids import cid, external, iid, meta, rid, rqvae, sid  # noqa: F401  (registration)
from idprobe.ids.base import (
    ASSIGNMENT_FILE,
    VECTORS_FILE,
    IdAssignment,
    IdStrategy,
    InvalidAssignmentError,
    describe_strategy,
    get_strategy,
    list_strategies,
    register,
    strategy_class,
)
from idprobe.ids.external import read_id_file, write_id_file
from idprobe.ids.leakage import NumberingLeak, numbering_leak
from idprobe.ids.stats import AssignmentStats, assignment_stats

__all__ = [
    "ASSIGNMENT_FILE",
    "VECTORS_FILE",
    "AssignmentStats",
    "IdAssignment",
    "IdStrategy",
    "InvalidAssignmentError",
    "NumberingLeak",
    "assignment_stats",
    "describe_strategy",
    "get_strategy",
    "list_strategies",
    "numbering_leak",
    "read_id_file",
    "register",
    "strategy_class",
    "write_id_file",
]
