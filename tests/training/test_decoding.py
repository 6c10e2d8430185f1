"""Constrained beam search: trie tables, the vectorised processor, and beam_search against brute force.

References: a Python set/dict of the sequences for the trie, the callback constraint of
transformers (``prefix_allowed_tokens_fn``) for the processor, and teacher forcing
(``log_softmax`` of the model's logits, gathered along a sequence) for the scores; with at
least as many beams as sequences, beam search must return every sequence, ranked exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny_models import tiny_llama, tiny_t5

from idprobe.errors import ConfigError
from idprobe.training.decoding import (
    IdTrie,
    TrieLogitsProcessor,
    beam_search,
    prefix_allowed_tokens_fn,
)

VOCAB = 50
PAD, EOS = 0, 1  # T5 and our Llama: pad 0, EOS 1; the T5 decoder starts with pad


@pytest.fixture(scope="module")
def t5():
    return tiny_t5(VOCAB, seed=0, pad=PAD, eos=EOS).eval()


@pytest.fixture(scope="module")
def llama():
    return tiny_llama(VOCAB, seed=1, pad=PAD, bos=2, eos=EOS).eval()


def random_ids(rng, n, low=2, high=10, max_len=3):
    """``n`` distinct ID token tuples of 1..max_len tokens drawn from [low, high)."""
    ids = set()
    while len(ids) < n:
        ids.add(tuple(int(t) for t in rng.integers(low, high, rng.integers(1, max_len + 1))))
    return sorted(ids)


def seq2seq_trie(ids, values=None):
    return IdTrie.from_sequences([(PAD, *i, EOS) for i in ids], values)


def causal_trie(ids, values=None):
    return IdTrie.from_sequences([(*i, EOS) for i in ids], values)


def encoder_batch(rng, batch, width=6):
    ids = torch.as_tensor(rng.integers(2, VOCAB, (batch, width)))
    mask = torch.ones_like(ids)
    for row in range(batch):
        cut = int(rng.integers(2, width + 1))  # right padding, fine for an encoder
        ids[row, cut:] = PAD
        mask[row, cut:] = 0
    return ids, mask


def prompt_batch(rng, batch, width=5):
    ids = torch.as_tensor(rng.integers(2, VOCAB, (batch, width)))
    mask = torch.ones_like(ids)
    for row in range(batch):
        pad = int(rng.integers(0, width - 1))  # left padding, as causal generation needs
        ids[row, :pad] = PAD
        mask[row, :pad] = 0
    return ids, mask


@torch.inference_mode()
def teacher_forced(model, ids, mask, row, sequence):
    """Summed log-probability of ``sequence`` (trie coordinates) given input ``row``."""
    sequence = torch.as_tensor([t for t in sequence if t >= 0])
    if model.config.is_encoder_decoder:
        logits = model(
            input_ids=ids[row : row + 1],
            attention_mask=mask[row : row + 1],
            decoder_input_ids=sequence[None, :-1],
        ).logits[0]
        targets = sequence[1:]
    else:
        prompt = ids[row][mask[row].bool()]  # the unpadded prompt, alone
        full = torch.cat([prompt, sequence])[None]
        logits = model(input_ids=full).logits[0, len(prompt) - 1 : -1]
        targets = sequence
    return float(torch.log_softmax(logits.float(), -1).gather(1, targets[:, None]).sum())


# --- the trie ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trie_tables_agree_with_a_python_set(seed):
    rng = np.random.default_rng(seed)
    ids = random_ids(rng, 40, high=8, max_len=4)
    values = rng.permutation(100)[:40]
    sequences = [(PAD, *i, EOS) for i in ids]
    trie = IdTrie.from_sequences(sequences, values)
    expected = dict(zip(sequences, values.tolist(), strict=True))
    prefixes = {s[:k] for s in sequences for k in range(len(s) + 1)}
    assert trie.n_nodes == len(prefixes)
    assert trie.max_length == max(map(len, sequences)) and trie.end_token == EOS
    for sequence, value in expected.items():
        assert trie.lookup(sequence) == value
        assert trie.lookup(sequence[:-1]) == -1  # a proper prefix is no sequence
    for _ in range(200):
        probe = tuple(int(t) for t in rng.integers(0, 9, rng.integers(0, 7)))
        assert trie.lookup(probe) == expected.get(probe, -1)
    # CSR children: ascending, and exactly the next tokens of the prefix
    following = {}
    for s in sequences:
        for k in range(len(s)):
            following.setdefault(s[:k], set()).add(s[k])
    nodes, frontier = {(): 0}, [()]
    while frontier:
        prefix = frontier.pop()
        children = trie.children(nodes[prefix]).tolist()
        assert children == sorted(following.get(prefix, ()))
        for token in children:
            nodes[(*prefix, token)] = int(trie.step([nodes[prefix]], [token])[0])
            frontier.append((*prefix, token))
    assert sorted(nodes.values()) == list(range(trie.n_nodes))
    # lookup_many on -1-padded rows
    rows = [*sequences[:5], (PAD, 99, EOS), (PAD,)]
    width = max(map(len, rows))
    padded = np.array([[*r, *[-1] * (width - len(r))] for r in rows])
    lengths = np.array([len(r) for r in rows])
    want = [expected.get(r, -1) for r in rows]
    assert trie.lookup_many(padded, lengths).tolist() == want


def test_trie_rejects_duplicate_and_bad_input():
    with pytest.raises(
        ConfigError, match=r"sequences: expected distinct .* sequence 2 repeats sequence 0"
    ):
        IdTrie.from_sequences([[0, 5, 1], [0, 6, 1], [0, 5, 1]])
    with pytest.raises(ConfigError, match=r"values: expected 2 integers"):
        IdTrie.from_sequences([[0, 5, 1], [0, 6, 1]], [3])
    with pytest.raises(ConfigError, match=r"values: expected entities >= 0"):
        IdTrie.from_sequences([[0, 5, 1], [0, 6, 1]], [3, -1])
    with pytest.raises(ConfigError, match=r"sequences\[1\]: expected at least one token"):
        IdTrie.from_sequences([[0, 5, 1], []])
    with pytest.raises(ConfigError, match=r"sequences: expected at least one token sequence"):
        IdTrie.from_sequences([])


# --- the processor ----------------------------------------------------------------------------


def test_processor_keeps_exactly_the_children():
    trie = IdTrie.from_sequences([[0, 5, 7, 1], [0, 5, 8, 1], [0, 6, 1], [0, 9, 9, 9, 1]])
    input_ids = torch.tensor(
        [
            [3, 3, 0, 5],  # node of (0, 5): children 7, 8
            [3, 3, 0, 9],  # (0, 9): child 9
            [3, 3, 0, 6],  # (0, 6): child EOS
            [3, 3, 6, 5],  # off the trie: nothing
        ]
    )
    scores = torch.randn(4, 12).log_softmax(-1)
    out = TrieLogitsProcessor(trie, prefix_length=2)(input_ids, scores)
    expected = [{7, 8}, {9}, {1}, set()]
    for row, allowed in enumerate(expected):
        finite = set(torch.isfinite(out[row]).nonzero().flatten().tolist())
        assert finite == allowed
        assert torch.equal(out[row, sorted(allowed)], scores[row, sorted(allowed)])
    # the decoder start alone: the first ID tokens; a complete sequence: nothing (no second EOS)
    out = TrieLogitsProcessor(trie, prefix_length=0)(torch.tensor([[0], [0]]), scores[:2])
    assert torch.isfinite(out).nonzero()[:, 1].tolist() == [5, 6, 9, 5, 6, 9]
    out = TrieLogitsProcessor(trie, prefix_length=0)(torch.tensor([[0, 6, 1]]), scores[:1])
    assert not torch.isfinite(out).any()


def test_processor_silences_repeated_beams_within_a_group():
    trie = IdTrie.from_sequences([[0, 5, 7, 1], [0, 5, 8, 1], [0, 6, 1]])
    # two inputs x three beams; beams 1 and 2 of input 0 repeat beam 0, input 1 has distinct beams
    input_ids = torch.tensor([[0, 5], [0, 5], [0, 5], [0, 5], [0, 6], [0, 4]])
    scores = torch.zeros(6, 10)
    out = TrieLogitsProcessor(trie, 0, num_beams=3)(input_ids, scores)
    finite = [set(torch.isfinite(r).nonzero().flatten().tolist()) for r in out]
    assert finite == [{7, 8}, set(), set(), {7, 8}, {1}, set()]


def test_callback_allows_the_same_tokens_as_the_processor():
    rng = np.random.default_rng(3)
    ids = random_ids(rng, 25, high=7, max_len=3)
    trie = seq2seq_trie(ids)
    callback = prefix_allowed_tokens_fn(trie, 0)
    processor = TrieLogitsProcessor(trie, 0)
    prefixes = sorted({s[:k] for s in trie.sequences for k in range(1, len(s) + 1)})
    width = max(map(len, prefixes)) + 1
    rows = [(*p, *[int(t) for t in rng.integers(2, 7, width - len(p))]) for p in prefixes]
    for cut in range(1, width + 1):
        input_ids = torch.tensor([r[:cut] for r in rows])
        out = processor(input_ids, torch.zeros(len(rows), 10))
        for row, out_row in zip(input_ids, out, strict=True):
            kept = torch.isfinite(out_row).nonzero().flatten().tolist()
            # complete or unknown prefixes: the processor allows nothing, the callback an idle token
            assert kept == callback(0, row) or (kept == [] and callback(0, row) == [PAD])


# --- beam search ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", ["seq2seq", "causal"])
def test_processor_and_callback_rank_identically(t5, llama, kind, seed):
    rng = np.random.default_rng(seed)
    ids = random_ids(rng, 30, max_len=3)
    values = rng.permutation(30)
    if kind == "seq2seq":
        model, trie, (x, mask) = t5, seq2seq_trie(ids, values), encoder_batch(rng, 4)
    else:
        model, trie, (x, mask) = llama, causal_trie(ids, values), prompt_batch(rng, 4)
    fast = beam_search(model, x, mask, trie, num_beams=6, constraint="processor")
    slow = beam_search(model, x, mask, trie, num_beams=6, constraint="callback")
    assert np.array_equal(fast.items, slow.items)
    np.testing.assert_allclose(fast.scores, slow.scores, rtol=0, atol=1e-5)
    assert (fast.items >= 0).all()
    assert np.all(np.diff(fast.scores, axis=1) <= 1e-6)  # best first


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind", ["seq2seq", "causal"])
def test_enough_beams_rank_every_sequence_by_its_exact_log_probability(t5, llama, kind, seed):
    rng = np.random.default_rng(10 + seed)
    ids = random_ids(rng, 12, max_len=3)
    if kind == "seq2seq":
        model, trie, (x, mask) = t5, seq2seq_trie(ids), encoder_batch(rng, 3)
    else:
        model, trie, (x, mask) = llama, causal_trie(ids), prompt_batch(rng, 3)
    result = beam_search(model, x, mask, trie, num_beams=12)
    for row in range(len(x)):
        exact = np.array([teacher_forced(model, x, mask, row, s) for s in trie.sequences])
        order = np.argsort(-exact, kind="stable")
        assert sorted(result.items[row].tolist()) == list(range(12))
        np.testing.assert_allclose(result.scores[row], exact[result.items[row]], atol=1e-4)
        np.testing.assert_allclose(result.scores[row], exact[order], atol=1e-4)


@pytest.mark.parametrize("num_beams", [1, 5])  # one beam is greedy search in transformers
@pytest.mark.parametrize("kind", ["seq2seq", "causal"])
def test_scores_are_teacher_forced_log_probabilities(t5, llama, kind, num_beams):
    rng = np.random.default_rng(5)
    ids = random_ids(rng, 60, high=14, max_len=4)
    if kind == "seq2seq":
        model, trie, (x, mask) = t5, seq2seq_trie(ids), encoder_batch(rng, 3)
    else:
        model, trie, (x, mask) = llama, causal_trie(ids), prompt_batch(rng, 3)
    result = beam_search(model, x, mask, trie, num_beams=num_beams)
    assert (result.items >= 0).all()
    for row in range(len(x)):
        for k in range(num_beams):
            sequence = result.sequences[row, k]
            assert trie.lookup(sequence[sequence >= 0]) == result.items[row, k]
            exact = teacher_forced(model, x, mask, row, sequence)
            assert result.scores[row, k] == pytest.approx(exact, abs=1e-4)


def test_length_penalty_divides_by_the_generated_length(t5):
    rng = np.random.default_rng(6)
    ids = random_ids(rng, 20, max_len=4)
    trie = seq2seq_trie(ids)
    x, mask = encoder_batch(rng, 2)
    result = beam_search(t5, x, mask, trie, num_beams=20, length_penalty=1.0)
    for row in range(2):
        for k in range(20):
            sequence = result.sequences[row, k]
            generated = int((sequence >= 0).sum()) - 1  # without the decoder start token
            exact = teacher_forced(t5, x, mask, row, sequence) / generated
            assert result.scores[row, k] == pytest.approx(exact, abs=1e-4)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(2, 9), min_size=1, max_size=4),
        min_size=1,
        max_size=25,
        unique_by=tuple,
    ),
    st.integers(1, 8),
    st.integers(0, 2**16),
)
def test_every_returned_beam_is_a_trie_sequence(t5, ids, num_beams, seed):
    trie = seq2seq_trie(ids, np.arange(len(ids)) * 3 + 7)
    x, mask = encoder_batch(np.random.default_rng(seed), 2)
    result = beam_search(t5, x, mask, trie, num_beams=num_beams)
    assert result.items.shape == result.scores.shape == (2, num_beams)
    valid = set(trie.values.tolist())
    for row in range(2):
        real = result.items[row] >= 0
        assert np.all(np.isinf(result.scores[row, ~real]))
        assert len(set(result.items[row, real].tolist())) == real.sum()  # no duplicates
        if num_beams >= len(ids):  # enough beams: every sequence comes back
            assert set(result.items[row, real].tolist()) == valid
        for k in np.flatnonzero(real):
            assert result.items[row, k] in valid
            sequence = tuple(result.sequences[row, k][result.sequences[row, k] >= 0].tolist())
            assert sequence in set(trie.sequences)
            assert trie.lookup(sequence) == result.items[row, k]
    # transformers' callback path finds the same beams, but can lose some: the copies of the
    # prompt it starts beams 1.. with finish at about -1e9 and may fill the finished set early
    callback = beam_search(t5, x, mask, trie, num_beams=num_beams, constraint="callback")
    for row in range(2):
        found = callback.items[row] >= 0
        mine = dict(zip(result.items[row].tolist(), result.scores[row].tolist(), strict=True))
        assert set(callback.items[row, found].tolist()) <= set(mine)
        for item, score in zip(
            callback.items[row, found], callback.scores[row, found], strict=True
        ):
            assert score == pytest.approx(mine[item], abs=1e-5)
        if found.all():
            assert np.array_equal(callback.items[row], result.items[row])


def test_callback_path_of_transformers_can_lose_ids_the_processor_finds(t5):
    # IDs "2", "2 2", "2 2 2" with three beams: beams 1 and 2 start as copies of beam 0 (score
    # -1e9), follow its path, finish as duplicates and fill the finished set before "2 2 2" ends
    trie = seq2seq_trie([(2,), (2, 2), (2, 2, 2)])
    x, mask = encoder_batch(np.random.default_rng(0), 2)
    result = beam_search(t5, x, mask, trie, num_beams=3)
    assert (np.sort(result.items, axis=1) == [0, 1, 2]).all()
    callback = beam_search(t5, x, mask, trie, num_beams=3, constraint="callback")
    assert (callback.items == -1).any()


def test_fewer_sequences_than_beams_pads_with_minus_one(t5):
    trie = seq2seq_trie([(5,), (6, 7), (8,)], [10, 11, 12])
    x, mask = encoder_batch(np.random.default_rng(0), 2)
    result = beam_search(t5, x, mask, trie, num_beams=10, num_return=5)
    assert result.items.shape == (2, 5)
    for row in range(2):
        assert sorted(result.items[row, :3].tolist()) == [10, 11, 12]
        assert result.items[row, 3:].tolist() == [-1, -1]
        assert (
            np.isfinite(result.scores[row, :3]).all() and np.isneginf(result.scores[row, 3:]).all()
        )


def test_unconstrained_search_marks_sequences_outside_the_trie(t5):
    rng = np.random.default_rng(7)
    x, mask = encoder_batch(rng, 3)
    # a random model seldom says EOS: raise its logit so that free generation ends
    bias = torch.zeros(VOCAB)
    bias[EOS] = 3.0
    hook = t5.lm_head.register_forward_hook(lambda module, inputs, logits: logits + bias)
    try:
        free = beam_search(t5, x, mask, seq2seq_trie([(5,)]), num_beams=4, constraint="none")
        top = [tuple(s[s >= 0].tolist()) for s in free.sequences[0]]
        ending = [s for s in top if s[-1] == EOS and s != (PAD, 5, EOS)]
        assert ending, "free generation produced no EOS-terminated sequence"
        assert np.isfinite(free.scores).all()
        for r, k in zip(*np.nonzero(free.items >= 0), strict=True):
            assert tuple(free.sequences[r, k][free.sequences[r, k] >= 0]) == (PAD, 5, EOS)
        # a trie that holds one generated sequence names it; everything else stays -1
        trie = IdTrie.from_sequences([ending[0], (PAD, 5, EOS)], [42, 43])
        again = beam_search(t5, x, mask, trie, num_beams=4, constraint="none")
    finally:
        hook.remove()
    np.testing.assert_allclose(again.scores, free.scores)
    assert again.items[0, top.index(ending[0])] == 42
    for r, k in np.ndindex(again.items.shape):
        sequence = tuple(again.sequences[r, k][again.sequences[r, k] >= 0].tolist())
        assert again.items[r, k] == {ending[0]: 42, (PAD, 5, EOS): 43}.get(sequence, -1)
    assert (again.items == -1).sum() >= 1


def test_model_generation_settings_neither_change_scores_nor_get_lost(t5):
    trie = seq2seq_trie([(5,), (6, 6), (5, 5, 5), (7,)])
    x, mask = encoder_batch(np.random.default_rng(0), 2)
    clean = beam_search(t5, x, mask, trie, num_beams=4)
    saved = t5.generation_config
    settings_ = saved.__class__(**saved.to_dict())
    settings_.repetition_penalty = 4.0
    settings_.no_repeat_ngram_size = 1
    settings_.suppress_tokens = [5]
    t5.generation_config = settings_
    t5.train()
    try:
        again = beam_search(t5, x, mask, trie, num_beams=4)
        assert t5.training and t5.generation_config is settings_
        assert t5.generation_config.suppress_tokens == [5]
    finally:
        t5.generation_config = saved
        t5.eval()
    assert np.array_equal(again.items, clean.items)
    np.testing.assert_allclose(again.scores, clean.scores)


def test_beam_search_errors(t5, llama):
    x, _ = prompt_batch(np.random.default_rng(0), 2)
    right = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    with pytest.raises(
        ConfigError,
        match=r"attention_mask: expected left-padded prompts .* found row 1 = \[1, 1, 1, 0, 0\]",
    ):
        beam_search(llama, x, right, causal_trie([(5,), (6,)]))
    with pytest.raises(
        ConfigError, match=r"trie: expected sequences starting with the decoder start token 0"
    ):
        beam_search(t5, x, None, causal_trie([(5,), (6,)]))
    with pytest.raises(
        ConfigError, match=r"trie: expected sequences that all end with the model's EOS \[1\]"
    ):
        beam_search(t5, x, None, IdTrie.from_sequences([(0, 5), (0, 6)]))
    with pytest.raises(
        ConfigError, match=r"trie: expected token ids below the model's vocabulary \(50\)"
    ):
        beam_search(t5, x, None, seq2seq_trie([(5,), (60,)]))
    with pytest.raises(
        ConfigError, match=r"constraint: expected one of 'processor', 'callback', 'none'"
    ):
        beam_search(t5, x, None, seq2seq_trie([(5,)]), constraint="mask")
    with pytest.raises(
        ConfigError, match=r"num_return: expected an integer in 1\.\.num_beams \(3\)"
    ):
        beam_search(t5, x, None, seq2seq_trie([(5,)]), num_beams=3, num_return=4)
