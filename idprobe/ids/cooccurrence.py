"""Item–item co-occurrence counts over users' training parts, the affinity of Hua et al.'s CID.

The reference builds a dense ``n_items x n_items`` matrix (1.2 GB for Amazon Beauty) with Python
loops over pairs (REFERENCE.md); here it is one sparse product of a binary user × item incidence
matrix with itself.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from idprobe.data import Interactions

__all__ = ["cooccurrence"]


def cooccurrence(view: Interactions) -> sp.csr_array:
    """Item–item co-occurrence over users' training parts: entry (i, j), i != j, counts the users
    whose training part holds both i and j (each unordered pair within a user adds 1, as in Hua et
    al.'s CID); the diagonal is zero. (n_items, n_items), float64, symmetric, canonical CSR.

    Pass the ``TrainingView`` of a split: it holds only training parts, so no held-out interaction
    can shape the matrix. Items without interactions (cold items) get all-zero rows and columns.
    """
    n_users, n_items = view.n_users, view.n_items
    # 32-bit indices whenever they fit: scikit-learn's spectral embedding refuses 64-bit ones, and
    # scipy keeps the index type it is given through products and conversions.
    fits = max(view.n_interactions, n_items) < np.iinfo(np.int32).max
    index_dtype = np.int32 if fits else np.int64
    incidence = sp.csr_array(
        (
            np.ones(view.n_interactions, dtype=np.float64),
            # Copies: the view's columns are read-only and sum_duplicates works in place.
            np.array(view.item_index, dtype=index_dtype),
            np.array(view.offsets, dtype=index_dtype),
        ),
        shape=(n_users, n_items),
    )
    # Interactions forbids repeated (user, item) pairs; merging and re-binarising anyway keeps
    # the count "users holding both", never "pairs of interactions", for any input.
    incidence.sum_duplicates()
    incidence.data[:] = 1.0
    counts = (incidence.T @ incidence).tocoo()
    off_diagonal = counts.row != counts.col
    result = sp.csr_array(
        (counts.data[off_diagonal], (counts.row[off_diagonal], counts.col[off_diagonal])),
        shape=(n_items, n_items),
    )
    result.sum_duplicates()  # canonical: sorted indices, no duplicate entries
    result.eliminate_zeros()
    return result
