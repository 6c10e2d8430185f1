"""The torch RQ-VAE of the RQ-VAE semantic-ID strategy (TIGER): shapes, determinism, the quantiser."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from sklearn.metrics import adjusted_rand_score

from idprobe.ids._rqvae_torch import (
    ResidualQuantizerFit,
    fit_residual_quantizer,
    residual_quantize,
)

SMALL = dict(
    levels=3,
    codebook_size=8,
    latent_dim=4,
    hidden_dims=(16,),
    epochs=4,
    batch_size=32,
    learning_rate=1e-2,
    commitment=0.25,
)


def _random(n: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def _blobs(n_per: int, n_blobs: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Centres about 5.7 apart on average (16 dims), noise radius about 1.2: well separated.
    centers = rng.standard_normal((n_blobs, dim))
    labels = np.repeat(np.arange(n_blobs), n_per)
    points = centers[labels] + 0.3 * rng.standard_normal((labels.size, dim))
    order = rng.permutation(labels.size)
    return points[order].astype(np.float32), labels[order]


def _brute_force(latents: np.ndarray, codebooks: list[np.ndarray]) -> np.ndarray:
    """Greedy residual quantisation written as plain loops over rows and codewords."""
    codes = np.zeros((latents.shape[0], len(codebooks)), dtype=np.int64)
    for i, row in enumerate(latents.astype(np.float64)):
        residual = row.copy()
        for level, book in enumerate(codebooks):
            best, best_dist = 0, np.inf
            for k, word in enumerate(book.astype(np.float64)):
                dist = float(np.sum((residual - word) ** 2))
                if dist < best_dist:
                    best, best_dist = k, dist
            codes[i, level] = best
            residual = residual - book[best].astype(np.float64)
    return codes


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_fit_shapes_dtypes_and_codes_match_numpy_quantiser(seed):
    x = _random(120, 10, seed)
    fit = fit_residual_quantizer(x, seed=seed, **SMALL)
    assert isinstance(fit, ResidualQuantizerFit)
    assert fit.codes.shape == (120, 3) and fit.codes.dtype == np.int64
    assert fit.codes.min() >= 0 and fit.codes.max() < 8
    assert len(fit.codebooks) == 3
    for book in fit.codebooks:
        assert book.shape == (8, 4) and book.dtype == np.float32
    assert fit.latents.shape == (120, 4) and fit.latents.dtype == np.float32
    assert len(fit.loss_history) == SMALL["epochs"]
    assert all(np.isfinite(v) for v in fit.loss_history)
    assert np.isfinite(fit.reconstruction_loss) and fit.reconstruction_loss >= 0
    assert np.isfinite(fit.quantization_loss) and fit.quantization_loss >= 0
    assert fit.codebook_usage == [len(np.unique(fit.codes[:, lv])) for lv in range(3)]
    np.testing.assert_array_equal(fit.codes, residual_quantize(fit.latents, fit.codebooks))
    np.testing.assert_array_equal(fit.codes, _brute_force(fit.latents, fit.codebooks))


@pytest.mark.parametrize("seed", [0, 3])
def test_same_seed_gives_identical_results(seed):
    x = _random(150, 12, 100 + seed)
    first = fit_residual_quantizer(x, seed=seed, **SMALL)
    second = fit_residual_quantizer(x, seed=seed, **SMALL)
    np.testing.assert_array_equal(first.codes, second.codes)
    np.testing.assert_array_equal(first.latents, second.latents)
    for a, b in zip(first.codebooks, second.codebooks, strict=True):
        np.testing.assert_array_equal(a, b)
    assert first.loss_history == second.loss_history


def test_result_does_not_depend_on_caller_thread_count_and_restores_it():
    import torch

    x = _random(150, 12, 42)
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        two = fit_residual_quantizer(x, seed=4, **SMALL)
        assert torch.get_num_threads() == 2
        torch.set_num_threads(1)
        one = fit_residual_quantizer(x, seed=4, **SMALL)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(previous)
    np.testing.assert_array_equal(two.codes, one.codes)
    np.testing.assert_array_equal(two.latents, one.latents)


def test_different_seeds_give_different_models():
    x = _random(150, 12, 5)
    a = fit_residual_quantizer(x, seed=0, **SMALL)
    b = fit_residual_quantizer(x, seed=1, **SMALL)
    assert not np.array_equal(a.latents, b.latents)


def test_fit_leaves_global_torch_rng_alone():
    import torch

    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    fit_residual_quantizer(_random(60, 6, 0), seed=9, **SMALL)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_residual_quantize_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    latents = rng.standard_normal((60, 5)).astype(np.float32)
    # Levels of different sizes and shrinking scales, as residual codebooks look after training.
    books = [
        (rng.standard_normal((size, 5)) * scale).astype(np.float32)
        for size, scale in ((7, 1.0), (4, 0.5), (9, 0.2))
    ]
    codes = residual_quantize(latents, books)
    assert codes.shape == (60, 3) and codes.dtype == np.int64
    np.testing.assert_array_equal(codes, _brute_force(latents, books))


def test_residual_quantize_single_level_is_nearest_codeword_and_ties_go_low():
    books = [np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0]], dtype=np.float32)]
    latents = np.array([[0.9, 0.1], [0.5, 0.0], [-3.0, 2.0]], dtype=np.float32)
    np.testing.assert_array_equal(residual_quantize(latents, books)[:, 0], [1, 0, 0])


def test_residual_quantize_rejects_mismatched_codebooks():
    with pytest.raises(ValueError, match="codebook 1"):
        residual_quantize(np.zeros((3, 4)), [np.zeros((2, 4)), np.zeros((2, 3))])


def test_torch_quantiser_agrees_with_numpy():
    import torch

    from idprobe.ids._rqvae_torch import _quantize_torch

    rng = np.random.default_rng(11)
    latents = rng.standard_normal((200, 6)).astype(np.float32)
    books = [(rng.standard_normal((10, 6)) * s).astype(np.float32) for s in (1.0, 0.5, 0.25)]
    z_q, codes, _ = _quantize_torch(
        torch.from_numpy(latents), [torch.from_numpy(b) for b in books], 0.25
    )
    expected = residual_quantize(latents, books)
    np.testing.assert_array_equal(codes.numpy(), expected)
    summed = sum(book[expected[:, lv]] for lv, book in enumerate(books))
    np.testing.assert_allclose(z_q.numpy(), summed, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1])
def test_loss_decreases_over_epochs(seed):
    x, _ = _blobs(40, 6, 12, seed)
    params = {**SMALL, "epochs": 8, "learning_rate": 5e-3}
    fit = fit_residual_quantizer(x, seed=seed, **params)
    assert fit.loss_history[-1] < fit.loss_history[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_first_level_recovers_separated_blobs(seed):
    x, labels = _blobs(50, 8, 16, seed)
    params = {
        **SMALL,
        "levels": 2,
        "latent_dim": 16,
        "hidden_dims": (32,),
        "epochs": 10,
        "learning_rate": 1e-2,
    }
    fit = fit_residual_quantizer(x, seed=seed, **params)
    assert adjusted_rand_score(labels, fit.codes[:, 0]) >= 0.9
    assert fit.codebook_usage[0] == 8


def test_zero_epochs_gives_kmeans_codebooks_and_no_history():
    fit = fit_residual_quantizer(_random(50, 6, 2), seed=0, **{**SMALL, "epochs": 0})
    assert fit.loss_history == []
    np.testing.assert_array_equal(fit.codes, residual_quantize(fit.latents, fit.codebooks))


def test_fewer_rows_than_codewords_raises():
    with pytest.raises(ValueError, match="codebook_size=8 exceeds the number of vectors \\(5\\)"):
        fit_residual_quantizer(_random(5, 6, 0), seed=0, **SMALL)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"levels": 0}, "levels"),
        ({"batch_size": 0}, "batch_size"),
        ({"epochs": -1}, "epochs"),
        ({"hidden_dims": (8, 0)}, "hidden_dims"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"commitment": -0.1}, "commitment"),
    ],
)
def test_bad_parameters_raise(override, message):
    with pytest.raises(ValueError, match=message):
        fit_residual_quantizer(_random(40, 6, 0), seed=0, **{**SMALL, **override})


def test_bad_vectors_raise():
    with pytest.raises(ValueError, match="2-D"):
        fit_residual_quantizer(np.zeros(10, dtype=np.float32), seed=0, **SMALL)
    bad = _random(40, 6, 0)
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_residual_quantizer(bad, seed=0, **SMALL)
