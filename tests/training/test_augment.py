"""META ID's layer F: E[t] + alpha * F(c_t), seen by training and generation alike."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_models import tiny_llama, tiny_t5
from transformers import T5ForConditionalGeneration

from idprobe.errors import ConfigError
from idprobe.training.augment import AugmentedEmbedding, install_augmentation, remove_augmentation

VOCAB = 40
AUG = [37, 31, 34, 39]  # deliberately not sorted: rows must follow these ids, not their order
PLAIN = [5, 6, 7, 8, 9, 10]  # tokens without a vector
VECTOR_DIM = 6
KINDS = ("t5", "llama")


def build(kind: str, seed: int = 0, tied: bool | None = None):
    if kind == "t5":
        model = tiny_t5(VOCAB, seed=seed, dropout=0.0, tied=True if tied is None else tied)
    else:
        model = tiny_llama(VOCAB, seed=seed, bos=1, eos=2, tied=bool(tied))
    return model.eval()


def vectors(seed: int = 0, rows: int = len(AUG)) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, VECTOR_DIM)).astype(np.float32)


def embedding_users(model) -> list[torch.nn.Module]:
    """Every module the model reads input embeddings through."""
    if isinstance(model, T5ForConditionalGeneration):
        return [model.shared, model.encoder.embed_tokens, model.decoder.embed_tokens]
    return [model.model.embed_tokens]


def hand_embedding(wrapper: AugmentedEmbedding, ids: np.ndarray, vecs: np.ndarray) -> np.ndarray:
    """E[t] + alpha * (W c_t + b) in numpy, from the explicit (AUG[k], vecs[k]) pairs."""
    table = wrapper.base.weight.detach().numpy().astype(np.float64)
    weight = wrapper.F.weight.detach().numpy().astype(np.float64)
    bias = wrapper.F.bias.detach().numpy().astype(np.float64)
    expected = table[ids]
    for token, vector in zip(AUG, vecs, strict=True):
        expected[ids == token] += wrapper.alpha * (weight @ vector + bias)
    return expected


# --- (a) the formula --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(3))
def test_forward_is_e_plus_alpha_f_of_the_token_vector(kind: str, seed: int) -> None:
    model = build(kind, seed)
    vecs = vectors(seed)
    alpha = [0.1, 0.5, 2.0][seed]
    state = torch.get_rng_state()
    wrapper = install_augmentation(model, AUG, vecs, alpha=alpha, seed=seed)
    assert torch.equal(state, torch.get_rng_state())  # F drew from its own generator
    assert all(user is wrapper for user in embedding_users(model))
    ids = np.random.default_rng(seed).integers(0, VOCAB, size=(3, 12))
    ids[0, :4] = AUG
    ids[1, :6] = PLAIN
    got = wrapper(torch.as_tensor(ids)).detach().numpy()
    assert np.allclose(got, hand_embedding(wrapper, ids, vecs), atol=1e-5)
    plain = ~np.isin(ids, AUG)
    table = wrapper.base.weight.detach().numpy()
    assert np.array_equal(got[plain], table[ids[plain]])  # untouched, bit for bit
    assert np.allclose(wrapper.effective_weight().numpy()[ids], got, atol=1e-6)
    assert wrapper.token_ids == AUG


def test_f_is_seeded_and_default_linear_scaled() -> None:
    one = install_augmentation(build("t5"), AUG, vectors(), seed=3)
    two = install_augmentation(build("t5", seed=1), AUG, vectors(), seed=3)
    other = install_augmentation(build("t5"), AUG, vectors(), seed=4)
    assert torch.equal(one.F.weight, two.F.weight) and torch.equal(one.F.bias, two.F.bias)
    assert not torch.equal(one.F.weight, other.F.weight)
    bound = 1 / np.sqrt(VECTOR_DIM)
    assert one.F.weight.abs().max() <= bound and one.F.weight.abs().max() > bound / 2
    assert one.F.weight.requires_grad and one.F.weight.shape == (16, VECTOR_DIM)


def test_output_head_stays_on_the_plain_table() -> None:
    model = build("t5", tied=True)
    wrapper = install_augmentation(model, AUG, vectors())
    assert model.lm_head.weight is wrapper.weight is wrapper.base.weight
    model.tie_weights()  # re-tying (as from_pretrained / resize do) keeps the wrapper in place
    assert all(user is wrapper for user in embedding_users(model))
    assert model.lm_head.weight is wrapper.base.weight
    assert model.get_output_embeddings().weight is wrapper.weight
    llama = build("llama", tied=True)
    wrapper = install_augmentation(llama, AUG, vectors())
    assert llama.lm_head.weight is wrapper.base.weight
    assert wrapper.num_embeddings == VOCAB and wrapper.embedding_dim == 16
    assert wrapper.padding_idx == 0


def test_modules_sharing_the_table_are_wrapped_even_if_the_setter_does_not() -> None:
    model = build("t5")
    # a model whose set_input_embeddings only swaps the top-level module (as older T5 code did)
    model.set_input_embeddings = lambda new: setattr(model, "shared", new)
    wrapper = install_augmentation(model, AUG, vectors())
    assert all(user is wrapper for user in embedding_users(model))


# --- (b) explicit id mapping ------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_rows_follow_token_ids_not_their_order(seed: int) -> None:
    vecs = vectors(seed)
    order = np.random.default_rng(seed).permutation(len(AUG))
    while np.array_equal(order, np.arange(len(AUG))):
        order = np.roll(order, 1)
    ids = torch.arange(VOCAB)
    reference = install_augmentation(build("t5"), AUG, vecs, seed=seed)(ids)
    together = install_augmentation(build("t5"), [AUG[k] for k in order], vecs[order], seed=seed)
    assert torch.equal(together(ids), reference)
    mismatched = install_augmentation(build("t5"), AUG, vecs[order], seed=seed)
    assert not torch.allclose(mismatched(ids), reference)


# --- (c) training sees the term -----------------------------------------------------------------


def t5_batch(where: str) -> tuple[torch.Tensor, torch.Tensor]:
    source = [4, 5, AUG[0], 6, 1] if where == "encoder" else [4, 5, 6, 7, 1]
    target = [8, AUG[1], 9, 1] if where == "decoder" else [8, 10, 9, 1]
    return torch.tensor([source]), torch.tensor([target])


def llama_batch(where: str) -> tuple[torch.Tensor, torch.Tensor]:
    prompt = [1, 4, AUG[0], 5] if where == "prompt" else [1, 4, 6, 5]
    target = [8, AUG[1], 9, 2] if where == "target" else [8, 10, 9, 2]
    ids = torch.tensor([prompt + target])
    labels = torch.tensor([[-100] * len(prompt) + target])
    return ids, labels


def loss_and_grad(model, wrapper: AugmentedEmbedding, ids, labels, alpha: float):
    wrapper.alpha = alpha
    model.zero_grad(set_to_none=True)
    loss = model(input_ids=ids, labels=labels).loss
    loss.backward()
    grad = wrapper.F.weight.grad
    return loss.item(), (0.0 if grad is None else grad.abs().sum().item())


@pytest.mark.parametrize(
    ("kind", "where"),
    [("t5", "encoder"), ("t5", "decoder"), ("llama", "prompt"), ("llama", "target")],
)
def test_training_loss_and_gradient_see_f(kind: str, where: str) -> None:
    model = build(kind).train()
    wrapper = install_augmentation(model, AUG, vectors())
    batch = t5_batch if kind == "t5" else llama_batch
    ids, labels = batch(where)
    loss_small, grad = loss_and_grad(model, wrapper, ids, labels, 0.1)
    loss_large, _ = loss_and_grad(model, wrapper, ids, labels, 3.0)
    assert grad > 0
    assert abs(loss_small - loss_large) > 1e-6
    # control: without augmented tokens, F neither changes the loss nor gets a gradient
    ids, labels = batch("nowhere")
    loss_small, grad = loss_and_grad(model, wrapper, ids, labels, 0.1)
    loss_large, _ = loss_and_grad(model, wrapper, ids, labels, 3.0)
    assert grad == 0 and loss_small == loss_large


# --- (d) generation sees the term ----------------------------------------------------------------


def generate(model, ids: torch.Tensor, **options):
    return model.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=3,
        do_sample=False,
        output_scores=True,
        output_logits=True,
        return_dict_in_generate=True,
        **options,
    )


def prompt(kind: str, augmented: bool) -> torch.Tensor:
    middle = AUG[2] if augmented else 7
    return torch.tensor([[4, 5, middle, 6, 1]] if kind == "t5" else [[1, 4, 5, middle, 6]])


@pytest.mark.parametrize("kind", KINDS)
def test_generation_prompt_side_sees_f(kind: str) -> None:
    model = build(kind)
    wrapper = install_augmentation(model, AUG, vectors(), alpha=0.0)
    ids = prompt(kind, augmented=True)
    greedy_off = generate(model, ids)
    beam_off = generate(model, ids, num_beams=3, num_return_sequences=2)
    wrapper.alpha = 3.0
    greedy_on = generate(model, ids)
    beam_on = generate(model, ids, num_beams=3, num_return_sequences=2)
    assert not torch.allclose(greedy_on.logits[0], greedy_off.logits[0])
    assert not torch.allclose(beam_on.sequences_scores, beam_off.sequences_scores)
    # alpha = 0 is exactly the plain model
    remove_augmentation(model)
    plain = generate(model, ids)
    assert torch.equal(plain.sequences, greedy_off.sequences)
    assert all(torch.equal(a, b) for a, b in zip(plain.logits, greedy_off.logits, strict=True))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("beams", [1, 3])
def test_generation_decoder_side_sees_f(kind: str, beams: int) -> None:
    """Force an augmented token as first output: the next step (a cached one-token decoder call,
    the path the reference lost) must score like a full forward through the wrapper."""
    model = build(kind)
    wrapper = install_augmentation(model, AUG, vectors(), alpha=1.5)
    ids = prompt(kind, augmented=False)
    forced = AUG[3]

    def first_is_forced(batch_id: int, sequence: torch.Tensor) -> list[int]:
        # T5 sequences start with the decoder start token, Llama's with the prompt
        first = 1 if kind == "t5" else ids.shape[1]
        return [forced] if len(sequence) == first else list(range(VOCAB))

    calls: list[tuple[torch.Tensor, torch.Tensor]] = []
    hook = wrapper.register_forward_hook(lambda mod, args, out: calls.append((args[0], out)))
    out = generate(model, ids, num_beams=beams, prefix_allowed_tokens_fn=first_is_forced)
    hook.remove()
    first = 1 if kind == "t5" else ids.shape[1]
    assert (out.sequences[:, first] == forced).all()
    # the wrapper was called on the forced token as decoder input, and added the term there
    seen = [(i, o) for i, o in calls if (i == forced).any() and i.shape[-1] == 1]
    assert seen
    for call_ids, call_out in seen:
        expected = wrapper.base(call_ids) + wrapper.term()[call_ids]
        assert torch.allclose(call_out, expected, atol=1e-6)
    assert not torch.allclose(wrapper.term()[forced], torch.zeros(16))
    if beams == 1:
        # second-step logits of generate == a manual full forward through the wrapper
        with torch.no_grad():
            if kind == "t5":
                full = model(input_ids=ids, decoder_input_ids=torch.tensor([[0, forced]]))
            else:
                full = model(input_ids=torch.cat([ids, torch.tensor([[forced]])], dim=1))
            manual = full.logits[:, -1]
            wrapper.alpha = 0.0
            if kind == "t5":
                off = model(input_ids=ids, decoder_input_ids=torch.tensor([[0, forced]]))
            else:
                off = model(input_ids=torch.cat([ids, torch.tensor([[forced]])], dim=1))
        assert torch.allclose(out.logits[1], manual, atol=1e-5)
        assert not torch.allclose(out.logits[1], off.logits[:, -1], atol=1e-3)


# --- (e) saving and loading -------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_round_trip(kind: str) -> None:
    model = build(kind).train()
    wrapper = install_augmentation(model, AUG, vectors(), alpha=0.7, seed=1)
    ids, labels = (t5_batch if kind == "t5" else llama_batch)(
        "encoder" if kind == "t5" else "prompt"
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    model(input_ids=ids, labels=labels).loss.backward()
    optimizer.step()
    state = model.state_dict()
    prefix = "shared" if kind == "t5" else "model.embed_tokens"
    assert {f"{prefix}.F.weight", f"{prefix}.F.bias", f"{prefix}.slot", f"{prefix}.vectors"} <= set(
        state
    )
    if kind == "t5":
        assert "decoder.embed_tokens.F.weight" in state

    fresh = build(kind, seed=9)
    fresh_wrapper = install_augmentation(fresh, AUG, vectors(5), alpha=0.7, seed=2)
    fresh.load_state_dict(state, strict=True)
    model.eval()
    fresh.eval()
    assert torch.equal(fresh_wrapper.vectors, wrapper.vectors)
    assert torch.equal(fresh_wrapper(torch.arange(VOCAB)), wrapper(torch.arange(VOCAB)))
    assert all(user is fresh_wrapper for user in embedding_users(fresh))
    if kind == "t5":
        assert fresh.lm_head.weight is fresh_wrapper.base.weight
    with torch.no_grad():
        assert torch.equal(
            fresh(input_ids=ids, labels=labels).logits, model(input_ids=ids, labels=labels).logits
        )
    source = prompt(kind, augmented=True)
    assert torch.equal(generate(fresh, source).sequences, generate(model, source).sequences)


@pytest.mark.parametrize("kind", KINDS)
def test_remove_gives_the_plain_model_back(kind: str) -> None:
    model = build(kind)
    ids = prompt(kind, augmented=True)
    before = generate(model, ids).logits
    base = model.get_input_embeddings()
    install_augmentation(model, AUG, vectors(), alpha=2.0)
    removed = remove_augmentation(model)
    assert isinstance(removed, AugmentedEmbedding) and removed.base is base
    assert all(user is base for user in embedding_users(model))
    after = generate(model, ids).logits
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
    with pytest.raises(ConfigError, match=r"^model: expected a model with an installed"):
        remove_augmentation(model)


# --- (f) errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token_ids", "vecs", "pattern"),
    [
        (AUG, vectors(rows=3), r"^vectors: expected one row per token id \(4\), found 3 rows$"),
        ([31, 32, 31, 33], vectors(), r"^token_ids: expected unique ids, found 31 repeated$"),
        ([31, 32, 40, 33], vectors(), r"^token_ids: expected ids in 0\.\.39 .*found 40$"),
        ([-1, 32, 33, 34], vectors(), r"^token_ids: expected ids in 0\.\.39 .*found -1$"),
        ([31.0, 32.0, 33.0, 34.0], vectors(), r"^token_ids: expected a sequence of integer"),
        ([], np.zeros((0, 3)), r"^token_ids: expected at least one token id, found none$"),
        (AUG, np.ones(4), r"^vectors: expected a 2-D numeric array"),
        (AUG, np.full((4, 3), np.nan), r"^vectors: expected finite values, found NaN or infinity$"),
        (AUG, np.zeros((4, 0)), r"^vectors: expected at least one column"),
    ],
)
def test_bad_arguments_are_config_errors(token_ids, vecs, pattern: str) -> None:
    model = build("t5")
    users = embedding_users(model)
    with pytest.raises(ConfigError, match=pattern):
        install_augmentation(model, token_ids, vecs)
    assert all(a is b for a, b in zip(embedding_users(model), users, strict=True))


def test_other_misuse_is_reported() -> None:
    model = build("t5")
    wrapper = install_augmentation(model, AUG, vectors())
    with pytest.raises(ConfigError, match=r"^model: expected a model without an installed"):
        install_augmentation(model, AUG, vectors())
    with pytest.raises(ConfigError, match=r"^alpha: expected a finite number, found nan$"):
        wrapper.alpha = float("nan")
    with pytest.raises(ConfigError, match=r"^seed: expected an integer"):
        AugmentedEmbedding(torch.nn.Embedding(VOCAB, 4), AUG, vectors(), seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^base: expected a torch\.nn\.Embedding"):
        AugmentedEmbedding(torch.nn.Linear(4, 4), AUG, vectors())  # type: ignore[arg-type]
    # resizing: transformers cannot resize through the wrapper; same size is a no-op
    assert model.resize_token_embeddings(VOCAB) is wrapper
    with pytest.raises(TypeError):
        model.resize_token_embeddings(VOCAB + 4)
    wrapper.base = torch.nn.Embedding(VOCAB + 4, 16)  # a table grown behind the wrapper's back
    with pytest.raises(ConfigError, match=r"^embedding table: expected 40 rows .*found 44 rows$"):
        wrapper(torch.tensor([[AUG[0]]]))
