"""The torch half of the RQ-VAE semantic-ID strategy: train a residual-quantised autoencoder.

TIGER (Rajput et al. 2023, "Recommender Systems with Generative Retrieval") gives every item a
*semantic ID*: a short tuple of codes obtained by residual quantisation of an item embedding. An
MLP encoder maps the embedding ``x`` to a latent ``z``; level 1 picks the codeword of codebook 1
nearest to ``r_1 = z``, level ``l + 1`` the codeword of codebook ``l + 1`` nearest to the residual
``r_{l+1} = r_l - e_l``; a mirror MLP decoder reconstructs ``x`` from ``z_q = e_1 + ... + e_L``.
The tuple ``(c_1, ..., c_L)`` of chosen code indices is the item's semantic ID, coarse to fine.
REFERENCE.md ("RQ-VAE semantic IDs") lists what the public re-implementations do; collisions
(items with the same tuple) are resolved by the caller, not here.

Training loss, per batch (``sg`` = stop-gradient, ``beta`` = ``commitment``)::

    mean((decoder(z_q) - x)^2) + sum_l [ mean((sg[r_l] - e_l)^2) + beta * mean((r_l - sg[e_l])^2) ]

that is the VQ-VAE loss (van den Oord et al. 2017) applied at every level, with the
straight-through estimator carrying the reconstruction gradient from ``z_q`` to ``z``. Means are
over all elements (rows and dimensions), as ``torch.nn.functional.mse_loss`` takes them.

Codebooks start from k-means on the residuals of the whole encoded data set (level by level), not
from random vectors: random codebooks leave most codewords unused from the first batch on
(codebook collapse), which TIGER's k-means initialisation avoids. k-means alone is not enough:
the encoder moves fast in the first steps (the decoder is still random), so clusters that k-means
had separated can fall onto one codeword, and an unused codeword never gets a gradient again.
After every epoch, codewords that no row chose in that epoch are therefore moved onto the
worst-quantised residuals of a batch (dead-codeword revival, as in SoundStream and Jukebox; TIGER
does not describe it). On 8 separated blobs with 8 codewords this is the difference between
level-1 codes that merge two blobs in some seeds and codes that recover all blobs.

Inputs are used as given: nothing is standardised or normalised here. Embeddings on very
different scales should be scaled by the caller, which also records that it did.

This module imports torch at top level; only functions of ``idprobe.ids.rqvae`` import it, so
``import idprobe.ids`` stays torch-free. It runs on the CPU in float32 and never touches a network.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.cluster import KMeans
from torch import nn
from torch.nn import functional as F

__all__ = ["ResidualQuantizerFit", "fit_residual_quantizer", "residual_quantize"]

# k-means++ seeding with one run is what sklearn's n_init="auto" picks; written out because the
# default changed in sklearn 1.4 (REFERENCE.md) and the codes must not depend on the version.
_KMEANS_N_INIT = 1
# A cap on Lloyd iterations: the codebooks only start training, so a fully converged k-means is not
# worth the time. On 34k x 32 Gaussian latents with 256 centroids, 30 float32 iterations end within
# 0.1% of the converged inertia (~80-100 iterations) at about half the time.
_KMEANS_MAX_ITER = 30
# Rows per block when computing distances in numpy: bounds the (rows, codebook_size) float64
# matrix (16384 x 256 x 8 bytes = 32 MiB) whatever the number of items.
_CHUNK_ROWS = 16384


@dataclass(frozen=True)
class ResidualQuantizerFit:
    """Result of :func:`fit_residual_quantizer`.

    Attributes:
        codes: ``(n, levels)`` int64, the code of each input row at each level; equal to
            ``residual_quantize(latents, codebooks)`` by construction.
        codebooks: ``levels`` float32 arrays of shape ``(codebook_size, latent_dim)``.
        latents: ``(n, latent_dim)`` float32 encoder outputs of the trained model.
        reconstruction_loss: final mean squared reconstruction error over all rows and
            dimensions, the decoder fed the quantised latents of ``codes``.
        quantization_loss: final codebook + commitment loss over all rows, summed over levels:
            ``(1 + commitment) * mean((r_l - e_l)^2)`` per level, as both terms are equal in value.
        loss_history: mean total loss of each training epoch (empty when ``epochs == 0``).
        codebook_usage: number of distinct codes used at each level by the final codes.
    """

    codes: np.ndarray
    codebooks: list[np.ndarray]
    latents: np.ndarray
    reconstruction_loss: float
    quantization_loss: float
    loss_history: list[float]
    codebook_usage: list[int]


def residual_quantize(latents: np.ndarray, codebooks: Sequence[np.ndarray]) -> np.ndarray:
    """Greedy residual quantisation in plain numpy; returns ``(n, levels)`` int64 codes.

    At each level, pick the codeword nearest (Euclidean) to the current residual and subtract it;
    ties go to the lowest index. This is the rule the RQ-VAE uses while training and the
    definition of the codes :func:`fit_residual_quantizer` returns. Levels may have codebooks of
    different sizes but must share the latent dimension.
    """
    z = np.asarray(latents)
    if z.ndim != 2:
        raise ValueError(f"latents must be a 2-D array (n, latent_dim), got shape {z.shape}")
    books = [np.asarray(book, dtype=np.float64) for book in codebooks]
    for level, book in enumerate(books):
        if book.ndim != 2 or book.shape[1] != z.shape[1] or book.shape[0] == 0:
            raise ValueError(
                f"codebook {level} must have shape (codebook_size >= 1, {z.shape[1]}), "
                f"got {book.shape}"
            )
    # float64 makes the expanded distance |r|^2 - 2 r.e + |e|^2 accurate enough that the argmin
    # matches a direct |r - e|^2 except on exact or near-exact ties.
    residual = z.astype(np.float64, copy=True)
    codes = np.empty((z.shape[0], len(books)), dtype=np.int64)
    for level, book in enumerate(books):
        book_sq = np.einsum("kd,kd->k", book, book)
        for start in range(0, residual.shape[0], _CHUNK_ROWS):
            block = residual[start : start + _CHUNK_ROWS]
            # |r|^2 is the same for every codeword of a row, so it does not change the argmin.
            dist = book_sq[None, :] - 2.0 * (block @ book.T)
            chosen = np.argmin(dist, axis=1)
            codes[start : start + _CHUNK_ROWS, level] = chosen
            block -= book[chosen]
    return codes


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers through ``sizes`` with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _quantize_torch(
    z: torch.Tensor, codebooks: Sequence[torch.Tensor], commitment: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Residual-quantise ``z``; returns (straight-through ``z_q``, codes, quantisation loss).

    Same greedy nearest-codeword rule as :func:`residual_quantize`, in float32 torch.
    """
    residual = z
    quantized = torch.zeros_like(z)
    loss = z.new_zeros(())
    codes = []
    for book in codebooks:
        with torch.no_grad():
            dist = (book * book).sum(dim=1)[None, :] - 2.0 * (residual @ book.T)
            chosen = torch.argmin(dist, dim=1)
        # With several CPU threads the backward of this indexing (an accumulating scatter) gave
        # codebook gradients that differed between identical runs; fit_residual_quantizer trains
        # on one thread, where it is reproducible (and 8x cheaper than a one-hot matmul).
        chosen_vectors = book[chosen]
        # Codebook term moves the codewords to the residuals; commitment term keeps the encoder
        # close to its codewords (VQ-VAE loss, beta = commitment).
        loss = loss + F.mse_loss(chosen_vectors, residual.detach())
        loss = loss + commitment * F.mse_loss(residual, chosen_vectors.detach())
        quantized = quantized + chosen_vectors
        # The next residual subtracts a detached codeword, so each codebook is trained only by its
        # own level's codebook term while commitment gradients of deeper levels reach the encoder.
        residual = residual - chosen_vectors.detach()
        codes.append(chosen)
    # Straight-through: the decoder sees z_q, the reconstruction gradient is copied onto z.
    straight_through = z + (quantized - z).detach()
    return straight_through, torch.stack(codes, dim=1), loss


@torch.no_grad()
def _revive_dead_codewords(
    encoder: nn.Module,
    codebooks: nn.ParameterList,
    optimizer: torch.optim.Optimizer,
    pool: torch.Tensor,
    used: torch.Tensor,
) -> None:
    """Move codewords no row chose during the epoch onto the worst-quantised residuals of ``pool``.

    A dead codeword gets no gradient (the codebook term only reaches chosen codewords), so without
    this it stays dead for good: when the encoder drifts early in training, two clusters can fall
    onto one codeword and never separate again (codebook collapse; REFERENCE.md asks to watch it).
    Level by level, each dead codeword is set to the residual of a distinct pool row with the
    largest quantisation error at that level, which then quantises exactly, and its Adam moments
    are zeroed so that stale statistics do not throw it off again. Deterministic: no randomness.
    """
    residual = encoder(pool)
    for level, book in enumerate(codebooks):
        dead = torch.nonzero(~used[level]).flatten()
        if dead.numel():
            dist = (book * book).sum(dim=1)[None, :] - 2.0 * (residual @ book.T)
            chosen = torch.argmin(dist, dim=1)
            error = ((residual - book[chosen]) ** 2).sum(dim=1)
            count = min(dead.numel(), residual.shape[0])
            worst = torch.argsort(error, descending=True, stable=True)[:count]
            dead = dead[:count]
            book[dead] = residual[worst]
            for moment in optimizer.state.get(book, {}).values():
                if torch.is_tensor(moment) and moment.shape == book.shape:
                    moment[dead] = 0.0
        dist = (book * book).sum(dim=1)[None, :] - 2.0 * (residual @ book.T)
        residual = residual - book[torch.argmin(dist, dim=1)]


def _kmeans_codebooks(
    latents: np.ndarray, levels: int, codebook_size: int, seed: int
) -> list[np.ndarray]:
    """k-means codebooks fitted level by level on the residuals of ``latents`` (float32)."""
    residual = latents.astype(np.float64, copy=True)
    books = []
    for level in range(levels):
        # One independent, reproducible k-means seed per level derived from the user's seed.
        state = int(np.random.SeedSequence([seed, level]).generate_state(1)[0])
        km = KMeans(
            n_clusters=codebook_size,
            init="k-means++",
            n_init=_KMEANS_N_INIT,
            max_iter=_KMEANS_MAX_ITER,
            random_state=state,
        ).fit(residual.astype(np.float32))  # float32 k-means: about twice as fast as float64
        # Rounded to the float32 codebook now, so later levels fit the residuals training starts on.
        centers = km.cluster_centers_.astype(np.float32)
        # Subtract the nearest centroid under the same rule the quantiser uses (KMeans.labels_
        # comes from the last Lloyd step and can differ from the final centroids' argmin).
        chosen = residual_quantize(residual, [centers])[:, 0]
        residual -= centers[chosen]
        books.append(centers)
    return books


def _check_positive_int(name: str, value: int, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def fit_residual_quantizer(
    vectors: np.ndarray,
    *,
    levels: int,
    codebook_size: int,
    latent_dim: int,
    hidden_dims: tuple[int, ...],
    epochs: int,
    batch_size: int,
    learning_rate: float,
    commitment: float,
    seed: int,
) -> ResidualQuantizerFit:
    """Train a TIGER-style RQ-VAE on ``vectors`` and return every row's semantic codes.

    Args:
        vectors: ``(n, dim)`` finite real array, one embedding per item, used as given (no scaling).
        levels: number of codebooks, i.e. codes per semantic ID.
        codebook_size: codewords per codebook; must not exceed ``n`` (k-means needs that many rows).
        latent_dim: width of the encoder output and of the codewords.
        hidden_dims: widths of the encoder's hidden layers (the decoder uses them reversed);
            empty for linear maps.
        epochs: passes over the data with Adam (0: k-means codebooks on the untrained encoder).
        batch_size: rows per optimisation step; the data are reshuffled every epoch.
        learning_rate: Adam step size.
        commitment: weight ``beta`` of the commitment term (0.25 in VQ-VAE and TIGER).
        seed: non-negative; fixes weight initialisation, k-means and batch order. The same seed
            gives identical results in a process, whatever torch's thread count (training runs on
            one thread); other machines or library versions may round differently. The global
            torch RNG and thread count are left as they were.

    Raises:
        ValueError: on a bad shape or parameter, non-finite input, or ``n < codebook_size``.
    """
    x_np = np.asarray(vectors)
    if x_np.ndim != 2 or x_np.shape[0] == 0 or x_np.shape[1] == 0:
        raise ValueError(f"vectors must be a non-empty 2-D array (n, dim), got shape {x_np.shape}")
    if not np.issubdtype(x_np.dtype, np.number) or np.iscomplexobj(x_np):
        raise ValueError(f"vectors must be real numbers, got dtype {x_np.dtype}")
    x_np = np.ascontiguousarray(x_np, dtype=np.float32)
    if not np.isfinite(x_np).all():
        raise ValueError("vectors contain NaN or infinite values")
    for name, value in (
        ("levels", levels),
        ("codebook_size", codebook_size),
        ("latent_dim", latent_dim),
        ("batch_size", batch_size),
    ):
        _check_positive_int(name, value)
    _check_positive_int("epochs", epochs, minimum=0)
    _check_positive_int("seed", seed, minimum=0)
    for width in hidden_dims:
        _check_positive_int("each of hidden_dims", width)
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    if not (np.isfinite(commitment) and commitment >= 0):
        raise ValueError(f"commitment must be a non-negative number, got {commitment!r}")
    n = x_np.shape[0]
    if n < codebook_size:
        raise ValueError(
            f"codebook_size={codebook_size} exceeds the number of vectors ({n}): k-means cannot "
            f"initialise that many codewords; use codebook_size <= {n}"
        )

    # One torch thread while training: the matrices are small (a batch of 1024 x a few hundred),
    # so a second thread gains little when the cores are idle and costs several times the run
    # time when they are busy (measured 8 ms vs 40 ms per step with other work on a 2-core
    # machine); it also makes the result independent of the machine's thread count. The caller's
    # setting is restored afterwards.
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(
            x_np,
            levels=levels,
            codebook_size=codebook_size,
            latent_dim=latent_dim,
            hidden_dims=tuple(hidden_dims),
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=float(learning_rate),
            commitment=float(commitment),
            seed=int(seed),
        )
    finally:
        torch.set_num_threads(previous_threads)


def _train(
    x_np: np.ndarray,
    *,
    levels: int,
    codebook_size: int,
    latent_dim: int,
    hidden_dims: tuple[int, ...],
    epochs: int,
    batch_size: int,
    learning_rate: float,
    commitment: float,
    seed: int,
) -> ResidualQuantizerFit:
    """The training behind :func:`fit_residual_quantizer`, on validated float32 input."""
    n, dim = x_np.shape
    # fork_rng restores the caller's global torch RNG afterwards: seeding here must not change
    # what other code draws. devices=[] keeps it CPU-only.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        sizes = [dim, *hidden_dims, latent_dim]
        encoder = _mlp(sizes)
        decoder = _mlp(sizes[::-1])
    # A local generator for batch order, independent of any other torch randomness.
    shuffler = torch.Generator().manual_seed(seed)

    x = torch.from_numpy(x_np)
    with torch.no_grad():
        initial_latents = encoder(x).numpy()
    codebooks = nn.ParameterList(
        nn.Parameter(torch.from_numpy(book))
        for book in _kmeans_codebooks(initial_latents, levels, codebook_size, seed)
    )

    params = [*encoder.parameters(), *decoder.parameters(), *codebooks.parameters()]
    optimizer = torch.optim.Adam(params, lr=learning_rate)
    history: list[float] = []
    for _ in range(epochs):
        order = torch.randperm(n, generator=shuffler)
        total = 0.0
        used = torch.zeros((levels, codebook_size), dtype=torch.bool)
        for start in range(0, n, batch_size):
            batch = x[order[start : start + batch_size]]
            z = encoder(batch)
            z_q, codes_batch, q_loss = _quantize_torch(z, list(codebooks), commitment)
            loss = F.mse_loss(decoder(z_q), batch) + q_loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            # Weight by batch size so the epoch mean is per row even with a short last batch.
            total += loss.item() * batch.shape[0]
            for level in range(levels):
                used[level, codes_batch[:, level]] = True
        history.append(total / n)
        # Also after the last epoch: a revived codeword is not yet known to the decoder, but it
        # still tells apart items that would otherwise share a code.
        _revive_dead_codewords(encoder, codebooks, optimizer, x[order[:batch_size]], used)

    with torch.no_grad():
        z = encoder(x)
        latents = z.numpy().copy()
        books_np = [book.detach().numpy().copy() for book in codebooks]
        # The numpy function defines the codes, so they equal residual_quantize(latents, books)
        # exactly; the final losses are evaluated on those very codes.
        codes = residual_quantize(latents, books_np)
        codes_t = torch.from_numpy(codes)
        residual = z
        quantized = torch.zeros_like(z)
        q_loss = z.new_zeros((), dtype=torch.float64)
        for level, book in enumerate(codebooks):
            chosen_vectors = book[codes_t[:, level]]
            # Without gradients the codebook and commitment terms have the same value.
            q_loss += (1.0 + commitment) * F.mse_loss(chosen_vectors, residual).double()
            quantized = quantized + chosen_vectors
            residual = residual - chosen_vectors
        recon_loss = F.mse_loss(decoder(quantized), x).item()

    return ResidualQuantizerFit(
        codes=codes,
        codebooks=books_np,
        latents=latents,
        reconstruction_loss=float(recon_loss),
        quantization_loss=float(q_loss.item()),
        loss_history=history,
        codebook_usage=[int(np.unique(codes[:, level]).size) for level in range(levels)],
    )
