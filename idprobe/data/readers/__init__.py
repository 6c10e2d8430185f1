"""One reader function per file format; ``idprobe.data.load_dataset`` picks among them."""

from idprobe.data.readers.amazon import read_amazon
from idprobe.data.readers.sequences import read_openp5, read_p5
from idprobe.data.readers.tables import (
    read_movielens_100k,
    read_movielens_csv,
    read_movielens_dat,
    read_recbole,
    read_table,
)

__all__ = [
    "read_amazon",
    "read_movielens_100k",
    "read_movielens_csv",
    "read_movielens_dat",
    "read_openp5",
    "read_p5",
    "read_recbole",
    "read_table",
]
