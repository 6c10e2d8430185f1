"""idprobe: build, train and explain the ID strategies of LLM-based recommenders.

This module only re-exports the public API; see DESIGN.md for the layout.
"""

from idprobe._version import __version__
from idprobe.data import (
    Interactions,
    dataset_stats,
    k_core,
    leave_one_out,
    load_dataset,
    make_synthetic,
    random_split,
)
from idprobe.errors import ConfigError, DataFormatError, DatasetError, IdprobeError
from idprobe.ids import IdAssignment, IdStrategy, get_strategy, list_strategies, register
from idprobe.results import ComparisonResult, Provenance

__all__ = [
    "ComparisonResult",
    "ConfigError",
    "DataFormatError",
    "DatasetError",
    "IdAssignment",
    "IdStrategy",
    "IdprobeError",
    "Interactions",
    "Provenance",
    "__version__",
    "compare",
    "dataset_stats",
    "get_strategy",
    "k_core",
    "leave_one_out",
    "list_strategies",
    "load_dataset",
    "make_synthetic",
    "random_split",
    "register",
]


def __getattr__(name: str) -> object:
    """``idprobe.compare`` is re-exported lazily: it needs torch, ``import idprobe`` does not."""
    if name == "compare":
        from idprobe.experiment import compare

        return compare
    raise AttributeError(f"module 'idprobe' has no attribute {name!r}")
