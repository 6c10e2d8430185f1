"""Numbers only: representation metrics of ID tokens (Diversity and Memorization Scores).

Arrays in, results out; nothing here knows about models or strategies, and nothing imports
torch. The numba kernels (``_kernels.py``) compile on first use, never at import.
"""

from idprobe.metrics.diversity import (
    DIVERSITY_METHODS,
    DiversityConvergence,
    DiversityResult,
    diversity_convergence,
    diversity_score,
)
from idprobe.metrics.ground_truth import (
    GROUND_TRUTH_KINDS,
    DevDevs,
    SimilarityGroundTruth,
    dev_devs,
    similarity_ground_truth,
)
from idprobe.metrics.memorization import (
    MEMORIZATION_MODES,
    MemorizationResult,
    memorization_score,
)
from idprobe.metrics.representation import TokenRows, id_representations

__all__ = [
    "DIVERSITY_METHODS",
    "GROUND_TRUTH_KINDS",
    "MEMORIZATION_MODES",
    "DevDevs",
    "DiversityConvergence",
    "DiversityResult",
    "MemorizationResult",
    "SimilarityGroundTruth",
    "TokenRows",
    "dev_devs",
    "diversity_convergence",
    "diversity_score",
    "id_representations",
    "memorization_score",
    "similarity_ground_truth",
]
