"""Classic sequential recommenders on idprobe's leave-one-out split and metrics.

Pop, SASRec, GRU4Rec, Caser and BERT4Rec, trained in torch on exactly the training parts an ID
strategy sees and evaluated by full ranking over all items with the HR/NDCG definitions of
``idprobe.evaluation``, so one table holds both families (paper Table 1). Hyper-parameters,
published numbers and the differences from the original setups are in the recipe files
(``baselines/recipes/<dataset>/<model>.toml``).

    idprobe baseline sasrec --dataset ../shared/data/amazon-beauty --out runs/sasrec
    idprobe compare --strategies rid,meta --baselines pop,sasrec --out runs/table

Importing this package does not import torch; ``train_baseline`` does.
"""

from typing import Any

from baselines.params import model_params
from baselines.recipes import Recipe, find_recipe, list_recipes, load_recipe, resolve_settings
from baselines.registry import MODELS, check_model
from baselines.settings import BaselineSettings

__all__ = [
    "MODELS",
    "BaselineSettings",
    "Recipe",
    "check_model",
    "find_recipe",
    "list_recipes",
    "load_recipe",
    "model_params",
    "resolve_settings",
    "train_baseline",
]


def __getattr__(name: str) -> Any:
    if name == "train_baseline":  # imports torch: only when asked for
        from baselines.run import train_baseline

        return train_baseline
    raise AttributeError(f"module 'baselines' has no attribute {name!r}")
