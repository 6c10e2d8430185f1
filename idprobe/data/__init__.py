"""Datasets: ``Interactions``, readers for the real formats, k-core, leak-free splits, synthetic data."""

from idprobe.data.catalog import DATASETS, FORMATS, DataFormat, detect_format, load_dataset
from idprobe.data.filtering import k_core
from idprobe.data.interactions import DUPLICATE_POLICIES, Interactions, sorted_raw_ids
from idprobe.data.join import attach_reviews
from idprobe.data.readers import (
    read_amazon,
    read_movielens_100k,
    read_movielens_csv,
    read_movielens_dat,
    read_openp5,
    read_p5,
    read_recbole,
    read_table,
)
from idprobe.data.splits import (
    LeaveOneOutSplit,
    RandomSplit,
    Samples,
    TrainingView,
    leave_one_out,
    random_split,
)
from idprobe.data.stats import DatasetStats, dataset_stats
from idprobe.data.synthetic import make_synthetic

__all__ = [
    "DATASETS",
    "DUPLICATE_POLICIES",
    "FORMATS",
    "DataFormat",
    "DatasetStats",
    "Interactions",
    "LeaveOneOutSplit",
    "RandomSplit",
    "Samples",
    "TrainingView",
    "attach_reviews",
    "dataset_stats",
    "detect_format",
    "k_core",
    "leave_one_out",
    "load_dataset",
    "make_synthetic",
    "random_split",
    "read_amazon",
    "read_movielens_100k",
    "read_movielens_csv",
    "read_movielens_dat",
    "read_openp5",
    "read_p5",
    "read_recbole",
    "read_table",
    "sorted_raw_ids",
]
