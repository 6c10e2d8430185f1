"""RQ-VAE semantic IDs (TIGER, Rajput et al. 2023): residual-quantised codes of an input embedding.

torch is imported only inside the functions that train the quantiser (``_rqvae_torch``), so
``import idprobe.ids`` stays light; without torch the strategy says how to install it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from idprobe.data import TrainingView
from idprobe.errors import ConfigError, IdprobeError
from idprobe.ids.base import (
    IdAssignment,
    IdStrategy,
    check_choice,
    check_float,
    check_int,
    register,
)
from idprobe.ids.grouping import normalize_rows
from idprobe.ids.meta import MetaPathParams

if TYPE_CHECKING:
    from idprobe.ids._rqvae_torch import ResidualQuantizerFit

__all__ = ["RqvaeIds", "first_level_codes", "level_letter"]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def level_letter(level: int) -> str:
    """Letter of a code level in the token (``<a_12>`` is code 12 of level 0, LC-Rec style)."""
    return _LETTERS[level]


def _fit(vectors: np.ndarray, **settings: object) -> ResidualQuantizerFit:
    try:
        from idprobe.ids._rqvae_torch import fit_residual_quantizer
    except ImportError as error:  # pragma: no cover - torch is in the test environment
        raise IdprobeError(
            f"the RQ-VAE needs torch ({error}); install it with: pip install 'idprobe[training]'"
        ) from None
    return fit_residual_quantizer(vectors.astype(np.float32), **settings)  # type: ignore[arg-type]


def first_level_codes(vectors: np.ndarray, n_codes: int, *, seed: int) -> np.ndarray:
    """Group labels from a one-level RQ-VAE with ``n_codes`` codewords (META ID ``grouping="rqvae"``),
    with the default network of the ``rqvae`` strategy; unused codewords are dropped."""
    fit = RqvaeIds()._quantize(vectors, seed, levels=1, codebook_size=n_codes)
    _, labels = np.unique(fit.codes[:, 0], return_inverse=True)
    return labels.astype(np.int64)


def _svd_vectors(view: TrainingView, dimensions: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy import sparse
    from sklearn.utils.extmath import randomized_svd

    matrix = sparse.csr_array(
        (
            np.ones(view.n_interactions, dtype=np.float64),
            (view.user_of_interaction, view.item_index),
        ),
        shape=(view.n_users, view.n_items),
    )
    k = min(dimensions, min(matrix.shape) - 1)
    u, s, vt = randomized_svd(matrix, n_components=k, random_state=seed)
    root = np.sqrt(s)
    return u * root, vt.T * root


@register
@dataclass(frozen=True)
class RqvaeIds(MetaPathParams, IdStrategy):
    """RQ-VAE: TIGER-style semantic IDs ``<a_i><b_j><c_k><d_n>`` from residual quantisation.

    An MLP encoder maps each entity's input vector (``input="metapath"``: META ID's skip-gram
    vectors, as in the paper's Table 4; ``"svd"``: factors of a truncated SVD of the training
    interactions), scaled to unit length, to a latent that ``levels`` codebooks of
    ``codebook_size`` codewords quantise residually (k-means initialised). The code of each
    level is one token. Entities with the same codes are told apart by a last counter token
    ``<{letter}_{n}>`` (0 for the first, TIGER), given to every entity so all IDs have the same
    length. ``details`` reports the unique-ID rate *before* that counter (codebook collapse shows
    there).
    """

    name: ClassVar[str] = "rqvae"
    places_unseen: ClassVar[bool] = False
    cold_rule: ClassVar[str] = (
        "entities without training interactions have no input vector; they get the first-level "
        "code just past the codebook (<a_{codebook_size}>), which no other ID starts with, and a "
        "counter"
    )

    input: str = "metapath"
    index: str = "items"
    levels: int = 3
    codebook_size: int = 256
    latent_dim: int = 32
    hidden_dims: tuple[int, ...] = (128, 64)
    rq_epochs: int = 100
    batch_size: int = 1024
    learning_rate: float = 1e-3
    commitment: float = 0.25

    def __post_init__(self) -> None:
        self._check_metapath(self.name)
        check_choice(self.name, "input", self.input, ("metapath", "svd"))
        check_choice(self.name, "index", self.index, ("items", "both"))
        check_int(self.name, "levels", self.levels, minimum=1)
        if self.levels > len(_LETTERS) - 1:
            raise ConfigError(f"{self.name}.levels", f"at most {len(_LETTERS) - 1}", self.levels)
        check_int(self.name, "codebook_size", self.codebook_size, minimum=2)
        check_int(self.name, "latent_dim", self.latent_dim, minimum=1)
        if not isinstance(self.hidden_dims, tuple) or not all(
            isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in self.hidden_dims
        ):
            raise ConfigError(
                f"{self.name}.hidden_dims", "a list of positive integers", self.hidden_dims
            )
        check_int(self.name, "rq_epochs", self.rq_epochs, minimum=1)
        check_int(self.name, "batch_size", self.batch_size, minimum=1)
        check_float(self.name, "learning_rate", self.learning_rate, 0.0, open_low=True)
        check_float(self.name, "commitment", self.commitment, 0.0)

    @property
    def indexes_users(self) -> bool:
        return self.index == "both"

    def _quantize(
        self,
        vectors: np.ndarray,
        seed: int,
        *,
        levels: int | None = None,
        codebook_size: int | None = None,
    ) -> ResidualQuantizerFit:
        """Train this strategy's RQ-VAE on ``vectors`` (levels / codebook size overridable)."""
        return _fit(
            vectors,
            levels=levels or self.levels,
            codebook_size=codebook_size or self.codebook_size,
            latent_dim=self.latent_dim,
            hidden_dims=self.hidden_dims,
            epochs=self.rq_epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            commitment=self.commitment,
            seed=seed,
        )

    def _inputs(self, view: TrainingView, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
        if self.input == "metapath":
            embedding = self._embedding(view, seed)
            return embedding.users, embedding.items, "META ID meta-path skip-gram vectors"
        users, items = _svd_vectors(view, self.dimensions, seed)
        return users, items, "truncated SVD of the training interactions"

    def _assign(self, view: TrainingView, seed: int) -> IdAssignment:
        user_vectors, item_vectors, described = self._inputs(view, seed)
        tables = [("item", view.items, item_vectors)]
        if self.indexes_users:
            tables.append(("user", view.users, user_vectors))
        kinds = np.concatenate([np.full(len(raw), n) for n, (_, raw, _) in enumerate(tables)])
        x = normalize_rows(np.concatenate([vectors for _, _, vectors in tables]))
        known = np.linalg.norm(x, axis=1) > 0
        if known.sum() < self.codebook_size:
            raise ConfigError(
                f"{self.name}.codebook_size",
                f"at most the number of entities with an input vector ({int(known.sum())})",
                self.codebook_size,
            )
        fit = self._quantize(x[known], seed)
        codes = np.full((len(x), self.levels), -1, dtype=np.int64)
        codes[known] = fit.codes
        codes[~known, 0] = self.codebook_size  # the cold bucket's first-level code
        counter_letter = level_letter(self.levels)

        ids: dict[str, dict[str, tuple[str, ...]]] = {}
        details: dict[str, object] = {}
        for n, (kind, raw_ids, _) in enumerate(tables):
            mine = kinds == n
            kind_codes = codes[mine]
            warm = known[mine]
            _, group, counts = np.unique(
                kind_codes, axis=0, return_inverse=True, return_counts=True
            )
            group = group.reshape(-1)
            # Counter = rank among the entities with the same codes, in dense order.
            order = np.argsort(group, kind="stable")
            starts = np.searchsorted(group[order], group[order])
            counter = np.empty(len(group), dtype=np.int64)
            counter[order] = np.arange(len(group)) - starts
            tokens = {}
            for raw, row, count, is_warm in zip(
                raw_ids.tolist(), kind_codes.tolist(), counter.tolist(), warm.tolist(), strict=True
            ):
                levels = row if is_warm else row[:1]
                tokens[raw] = (
                    *(f"<{level_letter(lv)}_{c}>" for lv, c in enumerate(levels)),
                    f"<{counter_letter}_{count}>",
                )
            ids[kind] = tokens
            warm_groups = counts[np.unique(group[warm])] if warm.any() else np.array([0])
            details[f"{kind}_unique_rate"] = float((warm_groups == 1).sum() / max(warm.sum(), 1))
            details[f"{kind}_distinct_codes"] = int(warm_groups.size)
            details[f"{kind}_largest_collision"] = int(warm_groups.max())

        new_tokens = sorted(
            {t for tokens in ids["item"].values() for t in tokens}
            | {t for tokens in ids.get("user", {}).values() for t in tokens},
            key=lambda t: (t[1], int(t[3:-1])),
        )
        return self._assignment(
            view,
            seed,
            ids["item"],
            ids.get("user"),
            new_tokens,
            cold_items=view.items[~known[kinds == 0]].tolist(),
            cold_users=view.users[~known[kinds == 1]].tolist() if self.indexes_users else [],
            input=described,
            codebook_usage=fit.codebook_usage,
            reconstruction_loss=fit.reconstruction_loss,
            **details,
        )
