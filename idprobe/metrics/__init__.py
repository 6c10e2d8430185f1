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
from idprobe.metrics.ranking import (
    RankingResult,
    check_ranking_invariants,
    filter_seen,
    hit_rate,
    mrr,
    ndcg,
    per_user_hits,
    per_user_ndcg,
    per_user_reciprocal_rank,
    ranking_metrics,
    ranks_from_predictions,
)
from idprobe.metrics.rating import RatingResult, parse_rating, rating_metrics
from idprobe.metrics.representation import TokenRows, id_representations
from idprobe.metrics.significance import (
    PairedTestResult,
    bootstrap_ci,
    paired_randomization_test,
)
from idprobe.metrics.text import BLEU_TOKENIZERS, BleuResult, bleu_scores

__all__ = [
    "BLEU_TOKENIZERS",
    "DIVERSITY_METHODS",
    "GROUND_TRUTH_KINDS",
    "MEMORIZATION_MODES",
    "BleuResult",
    "DevDevs",
    "DiversityConvergence",
    "DiversityResult",
    "MemorizationResult",
    "PairedTestResult",
    "RankingResult",
    "RatingResult",
    "SimilarityGroundTruth",
    "TokenRows",
    "bleu_scores",
    "bootstrap_ci",
    "check_ranking_invariants",
    "dev_devs",
    "diversity_convergence",
    "diversity_score",
    "filter_seen",
    "hit_rate",
    "id_representations",
    "memorization_score",
    "mrr",
    "ndcg",
    "paired_randomization_test",
    "parse_rating",
    "per_user_hits",
    "per_user_ndcg",
    "per_user_reciprocal_rank",
    "ranking_metrics",
    "ranks_from_predictions",
    "rating_metrics",
    "similarity_ground_truth",
]
