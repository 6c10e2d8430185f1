"""Looking inside a trained run: where the model attends, what its ID tokens' embeddings are, and
what the model was before training.

* :func:`attention_map` (paper Fig. 8b): "attention between input and output tokens in sequence
  recommendation generation, where we aggregate tokens within one ID". The test prompt of one
  user, exactly as evaluation renders and tokenises it, and one output item (the model's own
  top-1 constrained prediction, or a given item), run once with teacher forcing; the attention
  of every output token over the prompt tokens, and the same summed within the user's ID, each
  history item's ID and the rest of the prompt.
* :func:`id_token_embeddings` (paper Fig. 8a): the input-embedding rows of the tokens the run's
  IDs are written with, labelled by kind (new tokens by family, vocabulary tokens that IDs use,
  and a sample of other vocabulary tokens for reference), ready for a t-SNE.
* :func:`initial_run`: the run rebuilt as it was before its first step (same seed, tokenizer and
  ID rows, no trained weights), to compare trained and initial tables (paper Fig. 8a, Table 6).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from string import Formatter
from typing import Any

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from idprobe.data import leave_one_out
from idprobe.errors import ConfigError, choices, verbatim
from idprobe.prompts import (
    HISTORY_SEPARATOR,
    evaluation_examples,
    get_template,
    id_text,
    item_phrases,
    user_phrases,
)
from idprobe.training.backbones import needs_trained_tokenizer
from idprobe.training.decoding import beam_search
from idprobe.training.run import (
    SETTINGS_FILE,
    LoadedRun,
    RunSettings,
    _assignment,
    _backbone,
    input_table,
    target_ids,
)
from idprobe.training.threads import torch_threads
from idprobe.training.tokenizer import load_tokenizer
from idprobe.training.vocabulary import Vocabulary

__all__ = [
    "ATTENTION_LAYERS",
    "GROUP_KINDS",
    "ITEM_TASKS",
    "AttentionMap",
    "TokenEmbeddings",
    "attention_map",
    "eager_attention",
    "id_token_embeddings",
    "initial_run",
    "token_family",
]

#: Tasks whose output is an item ID (the others write text or a rating).
ITEM_TASKS = ("sequential", "direct")
#: Which decoder layers are averaged: every layer, or only the last.
ATTENTION_LAYERS = ("all", "last")
#: How many beams pick the default output (the top-1 of a small constrained beam search).
_BEAMS = 5
#: Reference tokens of :func:`id_token_embeddings` that no ID uses.
_OTHER_VOCABULARY = 200
GROUP_KINDS = ("user", "item", "text")


# ---------------------------------------------------------------------------------- attention


@dataclass(frozen=True, eq=False)
class AttentionMap:
    """Attention of one generated item ID over one user's test prompt (paper Fig. 8b).

    How to read it: each row of ``group_matrix`` is one output token; each column is a part of the
    prompt (the user's ID, each history item's ID in history order, then the other words). A
    model that uses the history puts its weight on the item columns; a model that recalls the
    user puts it on the user column. Rows of an encoder-decoder's cross-attention sum to 1 over
    the prompt. For a decoder-only model a row is the self-attention of the position that writes
    the token, restricted to the prompt: it sums to at most 1, the rest went to the output
    tokens already written (and is left out, not renormalised).

    Attributes:
        user: raw user id; ``task``, ``template_id`` and ``source`` (the prompt text) as evaluation
            renders them for the user's test example.
        target_item: raw id of the output item; ``target_text`` its phrase (``item_...``).
        predicted: whether the output is the model's own top-1 constrained prediction (else the
            caller gave ``target``); ``test_item``: the user's held-out test item.
        layers: ``"all"`` or ``"last"``: which layers were averaged (always every head).
        source_tokens, target_tokens: the prompt's tokens (as the model reads them, truncation
            included) and the output's tokens (the ID's tokens, then EOS).
        target_kinds: ``"id"`` or ``"eos"`` for each output token.
        token_matrix: ``(len(target_tokens), len(source_tokens))`` attention, float32.
        source_groups: the group (column of ``group_matrix``) of each source token.
        group_labels: the user's phrase (``user_12``), each history item's ID text (``1007``,
            ``<CT3><1004>``), and ``text`` for every other prompt token (template words, the
            dataset name, separators, EOS); a part with no token left after truncation is
            dropped.
        group_kinds: ``"user"``, ``"item"`` or ``"text"`` for each group.
        group_matrix: ``(len(target_tokens), n_groups)``: ``token_matrix`` summed over each
            group's tokens.
    """

    user: str
    task: str
    template_id: str
    source: str
    target_item: str
    target_text: str
    predicted: bool
    test_item: str
    layers: str
    source_tokens: list[str]
    target_tokens: list[str]
    target_kinds: list[str]
    token_matrix: np.ndarray
    source_groups: np.ndarray
    group_labels: list[str]
    group_kinds: list[str]
    group_matrix: np.ndarray

    @property
    def output_labels(self) -> list[str]:
        """Rows of :attr:`output_matrix`: the output item's ID text, then ``EOS`` if present."""
        return [label for label, kind in self._output_groups() if kind]

    @property
    def output_matrix(self) -> np.ndarray:
        """``group_matrix`` with the output tokens aggregated too: one row for the item's ID (the
        mean of its tokens' rows, so a row still sums to what one token's row sums to) and one
        for EOS. The figure of the paper: ID x ID attention."""
        rows = []
        kinds = np.array(self.target_kinds)
        for _, kind in self._output_groups():
            if kind:
                rows.append(self.group_matrix[kinds == kind].mean(axis=0))
        return np.array(rows, dtype=np.float32)

    def _output_groups(self) -> list[tuple[str, str | None]]:
        phrase_id = self.target_text.removeprefix("item_")
        return [
            (phrase_id, "id" if "id" in self.target_kinds else None),
            ("EOS", "eos" if "eos" in self.target_kinds else None),
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (matrices as nested lists), for ``analysis/`` files and figures."""
        return {
            "user": self.user,
            "task": self.task,
            "template_id": self.template_id,
            "source": self.source,
            "target_item": self.target_item,
            "target_text": self.target_text,
            "predicted": self.predicted,
            "test_item": self.test_item,
            "layers": self.layers,
            "source_tokens": list(self.source_tokens),
            "target_tokens": list(self.target_tokens),
            "target_kinds": list(self.target_kinds),
            "token_matrix": self.token_matrix.astype(float).tolist(),
            "source_groups": self.source_groups.astype(int).tolist(),
            "group_labels": list(self.group_labels),
            "group_kinds": list(self.group_kinds),
            "group_matrix": self.group_matrix.astype(float).tolist(),
            "output_labels": self.output_labels,
            "output_matrix": self.output_matrix.astype(float).tolist(),
        }

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> AttentionMap:
        """Rebuild from :meth:`to_dict` (derived entries are recomputed, not read)."""
        values = {k: v for k, v in document.items() if k not in ("output_labels", "output_matrix")}
        values["token_matrix"] = np.array(values["token_matrix"], dtype=np.float32)
        values["group_matrix"] = np.array(values["group_matrix"], dtype=np.float32)
        values["source_groups"] = np.array(values["source_groups"], dtype=np.int64)
        return cls(**values)


def _check_run(run: object) -> LoadedRun:
    if not isinstance(run, LoadedRun):
        raise ConfigError(
            "run", "a LoadedRun (training.run.load_run)", verbatim(type(run).__name__)
        )
    return run


def _prompt_parts(
    run: LoadedRun, user: int, task: str, template_id: str
) -> tuple[str, list[tuple[int, int, str, str]]]:
    """The source text of the user's test prompt and the character spans of its IDs.

    Returns ``(source, spans)`` with spans ``(start, end, label, kind)``: the user's phrase at
    each place the template names it, and each history item's phrase in history order. Built
    from the template's pieces, so the spans are exact, not found by searching the text.
    """
    data = run.split.interactions
    template = get_template(template_id)
    users = user_phrases(run.assignment, data, run.settings.user_scheme)  # type: ignore[arg-type]
    items = item_phrases(run.assignment, data)
    history = run.split.test.history(user).tolist()
    item_ids = run.assignment.item_ids(data)
    values = {"dataset": data.name, "user": users[user]}
    text: list[str] = []
    spans: list[tuple[int, int, str, str]] = []
    position = 0
    for literal, name, _spec, _conversion in Formatter().parse(template.source):
        text.append(literal)
        position += len(literal)
        if name is None:
            continue
        if name == "history":
            for k, item in enumerate(history):
                if k:
                    text.append(HISTORY_SEPARATOR)
                    position += len(HISTORY_SEPARATOR)
                phrase = items[item]
                spans.append((position, position + len(phrase), id_text(item_ids[item]), "item"))
                text.append(phrase)
                position += len(phrase)
            continue
        value = values[name]
        if name == "user":
            spans.append((position, position + len(value), value, "user"))
        text.append(value)
        position += len(value)
    return "".join(text), spans


def _groups(
    offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int, str, str]]
) -> tuple[np.ndarray, list[str], list[str]]:
    """Group of each source token: the span it overlaps most (ties: the first), else ``text``.

    The user's phrase may appear more than once in a prompt: all its places form one group.
    Groups that no token reaches (cut by truncation) are dropped; ``text`` comes last.
    """
    keys: list[tuple[str, str]] = []  # (kind, label) per span group, in first-span order
    span_group: list[int] = []
    user_group: int | None = None
    for _, _, label, kind in spans:
        if kind == "user" and user_group is not None:
            span_group.append(user_group)
            continue
        keys.append((kind, label))
        span_group.append(len(keys) - 1)
        if kind == "user":
            user_group = len(keys) - 1
    text_group = len(keys)
    owner = np.full(len(offsets), text_group, dtype=np.int64)
    for t, (start, end) in enumerate(offsets):
        if end <= start:  # special tokens (EOS) carry an empty span
            continue
        best, best_overlap = -1, 0
        for s, (a, b, _, _) in enumerate(spans):
            overlap = min(end, b) - max(start, a)
            if overlap > best_overlap:
                best, best_overlap = s, overlap
        if best >= 0:
            owner[t] = span_group[best]
    # Keep the groups that own a token, user first, items in history order, text last.
    used = sorted(set(owner.tolist()))
    renumber = {old: new for new, old in enumerate(used)}
    labels = [keys[g][1] if g < text_group else "text" for g in used]
    kinds = [keys[g][0] if g < text_group else "text" for g in used]
    return np.array([renumber[g] for g in owner.tolist()], dtype=np.int64), labels, kinds


def _attention_holder(model: Any) -> Any:
    """The transformers model whose attention implementation is switched (a PEFT wrapper's base)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def _implementations(model: Any) -> dict[int, tuple[Any, Any]]:
    """Every (sub-)config of the model and the attention implementation it holds."""
    configs = {}
    for module in model.modules():
        config = getattr(module, "config", None)
        if config is not None and hasattr(config, "_attn_implementation"):
            configs[id(config)] = (config, config._attn_implementation)
    return configs


@contextmanager
def eager_attention(model: Any) -> Iterator[None]:
    """Run the block with the eager attention implementation (the only one that returns
    attention weights; SDPA and flash kernels never form them), then put back what was there.

    Uses ``PreTrainedModel.set_attn_implementation`` (transformers 5.x), which reaches the
    sub-models; a sub-config it misses is switched directly, and afterwards every config gets
    back its own earlier value.
    """
    holder = _attention_holder(model)
    before = _implementations(holder)
    if all(value == "eager" for _, value in before.values()):
        yield
        return
    previous = holder.config._attn_implementation
    holder.set_attn_implementation("eager")
    # A composite model can keep a sub-config the public call does not reach (bert2bert keeps
    # one of its BertConfigs on sdpa); every attention module reads its own config at call time.
    for config, _ in before.values():
        if config._attn_implementation != "eager":
            config._attn_implementation_internal = "eager"
    try:
        yield
    finally:
        holder.set_attn_implementation(previous)
        for config, value in before.values():
            if config._attn_implementation != value:
                config._attn_implementation_internal = value


def _layer_mean(attentions: Sequence[torch.Tensor], layers: str) -> torch.Tensor:
    """Mean over heads and the chosen layers of ``(1, heads, rows, columns)`` tensors."""
    chosen = list(attentions) if layers == "all" else [attentions[-1]]
    return torch.stack([a[0].float().mean(dim=0) for a in chosen]).mean(dim=0)


def attention_map(
    run: LoadedRun,
    user: str,
    *,
    task: str = "sequential",
    target: str | None = None,
    layers: str = "all",
) -> AttentionMap:
    """Attention between the user's test prompt and one output item ID (paper Fig. 8b).

    The prompt is the user's test example of ``task`` exactly as evaluation builds it (the run's
    user scheme, the task's first seen template, truncated to ``max_source_tokens``). The output
    is ``target`` (a raw item id) or, by default, the model's top-1 prediction by constrained
    beam search over the run's item trie. One forward pass with teacher forcing on that output
    gives the attention weights: cross-attention for an encoder-decoder, the prompt columns of
    the self-attention for a decoder-only model; averaged over heads and ``layers`` (``"all"``
    or ``"last"``). The model's attention implementation is switched to eager for the pass and
    restored; its weights and train/eval mode are left as they were.

    Args:
        run: a loaded run (:func:`idprobe.training.run.load_run` or :func:`initial_run`).
        user: raw user id of the run's data.
        task: ``sequential`` (the prompt names the history) or ``direct`` (user only).
        target: raw item id to write; ``None`` for the model's own top-1.
        layers: ``"all"`` or ``"last"``.
    """
    run = _check_run(run)
    if task not in ITEM_TASKS:
        raise ConfigError("task", choices(ITEM_TASKS), task)
    if layers not in ATTENTION_LAYERS:
        raise ConfigError("layers", choices(ATTENTION_LAYERS), layers)
    data = run.split.interactions
    try:
        dense_user = data.user_index_of(user)
    except KeyError:
        example = data.users[0] if data.n_users else "?"
        raise ConfigError(
            "user", f"a raw user id of {data.name} (e.g. {example!r})", user
        ) from None
    target_index: int | None = None
    if target is not None:
        try:
            target_index = data.item_index_of(target)
        except KeyError:
            example = data.items[0] if data.n_items else "?"
            raise ConfigError(
                "target", f"a raw item id of {data.name} (e.g. {example!r}) or None", target
            ) from None
    examples = evaluation_examples(
        run.split, run.assignment, task, user_scheme=run.settings.user_scheme
    )
    example = next(e for e in examples if e.user == dense_user)
    source, spans = _prompt_parts(run, dense_user, task, example.template_id)
    if source != example.source:  # the spans would not be those of the evaluated prompt
        raise RuntimeError(f"prompt re-rendering differs from evaluation: {source!r}")
    tokenizer, model = run.tokenizer, run.model
    if not getattr(tokenizer, "is_fast", False):
        raise ConfigError(
            "tokenizer", "a fast tokenizer (character offsets locate the IDs)", "a slow one"
        )
    encoded = tokenizer(
        [source],
        truncation=True,
        max_length=run.settings.max_source_tokens,
        return_offsets_mapping=True,
        return_tensors="pt",
    )
    input_ids, mask = encoded["input_ids"], encoded["attention_mask"]
    offsets = [tuple(pair) for pair in encoded["offset_mapping"][0].tolist()]
    source_groups, labels, kinds = _groups(offsets, spans)
    phrases = item_phrases(run.assignment, data)
    encoder_decoder = bool(model.config.is_encoder_decoder)
    was_training = model.training
    model.eval()
    try:
        with torch_threads(run.settings.threads), torch.no_grad():
            if target_index is None:
                result = beam_search(
                    model, input_ids, mask, run.item_trie(), num_beams=_BEAMS, num_return=1
                )
                target_index = int(result.items[0, 0])
                predicted = True
            else:
                predicted = False
            output = target_ids(tokenizer, [phrases[target_index]])[0]
            with eager_attention(model):
                if encoder_decoder:
                    start = run.backbone.decoder_start_token_id
                    decoder_input = torch.tensor([[start, *output[:-1]]])
                    forward = model(
                        input_ids=input_ids,
                        attention_mask=mask,
                        decoder_input_ids=decoder_input,
                        output_attentions=True,
                        use_cache=False,
                        return_dict=True,
                    )
                    matrix = _layer_mean(forward.cross_attentions, layers)
                else:
                    prompt = input_ids.shape[1]
                    joined = torch.cat((input_ids, torch.tensor([output])), dim=1)
                    forward = model(
                        input_ids=joined,
                        attention_mask=torch.ones_like(joined),
                        output_attentions=True,
                        use_cache=False,
                        return_dict=True,
                    )
                    full = _layer_mean(forward.attentions, layers)
                    # The position before each output token is the one that writes it.
                    rows = torch.arange(prompt - 1, prompt - 1 + len(output))
                    matrix = full[rows, :prompt]
    finally:
        model.train(was_training)
    token_matrix = matrix.cpu().numpy().astype(np.float32)
    group_matrix = np.zeros((token_matrix.shape[0], len(labels)), dtype=np.float32)
    np.add.at(group_matrix.T, source_groups, token_matrix.T)
    eos = tokenizer.eos_token_id
    return AttentionMap(
        user=str(user),
        task=task,
        template_id=example.template_id,
        source=source,
        target_item=str(data.items[target_index]),
        target_text=phrases[target_index],
        predicted=predicted,
        test_item=str(data.items[run.split.test.targets[dense_user]]),
        layers=layers,
        source_tokens=tokenizer.convert_ids_to_tokens(input_ids[0].tolist()),
        target_tokens=tokenizer.convert_ids_to_tokens(output),
        target_kinds=[
            "eos" if k == len(output) - 1 and token == eos else "id"
            for k, token in enumerate(output)
        ],
        token_matrix=token_matrix,
        source_groups=source_groups,
        group_labels=labels,
        group_kinds=kinds,
        group_matrix=group_matrix,
    )


# ---------------------------------------------------------------------------------- embeddings

VOCABULARY_ID = "vocabulary (ID)"
VOCABULARY_OTHER = "vocabulary (other)"
_DIGITS = re.compile(r"\d+")


def token_family(token: str) -> str:
    """The family of a new token: the token with its digits removed, ``<CT12>`` -> ``<CT>``,
    ``<a_163>`` -> ``<a_>``; an all-digit token ``<1004>`` -> ``<n>``."""
    family = _DIGITS.sub("", token)
    return "<n>" if family == "<>" else family


@dataclass(frozen=True, eq=False)
class TokenEmbeddings:
    """Input-embedding rows of ID tokens with a kind per token (paper Fig. 8a).

    How to read a t-SNE of it: new tokens that cluster by family (all ``<CT>`` together, all
    ``<n>`` together) and away from the vocabulary were learnt as a separate language;
    new tokens mixed with the vocabulary share its space. ``vocabulary (ID)`` are the in-vocabulary
    pieces IDs are spelt with (RID/SID digit groups); ``vocabulary (other)`` is a seeded sample
    of the rest, for reference.

    Attributes:
        tokens: token strings; kinds: ``new <FAMILY>`` (see :func:`token_family`),
            ``vocabulary (ID)`` or ``vocabulary (other)``; rows: their rows of the table;
        vectors: ``(len(tokens), d)`` float32, the rows as the model reads them (F term included).
    """

    tokens: list[str]
    kinds: list[str]
    vectors: np.ndarray
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def kind_names(self) -> list[str]:
        """The kinds in order of first appearance."""
        return list(dict.fromkeys(self.kinds))


def id_token_embeddings(
    run: LoadedRun, *, max_tokens: int = 2000, seed: int = 0
) -> TokenEmbeddings:
    """The input-embedding rows of the tokens the run's item and user IDs use (paper Fig. 8a).

    New tokens are labelled ``new <FAMILY>``; plain ID tokens are split by the run's tokenizer as
    the representation metrics do (:class:`idprobe.training.vocabulary.Vocabulary`: the ID's own
    pieces, the bare word marker dropped) and their pieces labelled ``vocabulary (ID)``; up to
    200 other vocabulary tokens (special tokens excluded), drawn with ``seed``, are
    ``vocabulary (other)``. More than ``max_tokens`` rows are sampled down with ``seed``, one row
    of every kind kept first and the rest drawn uniformly, so proportions stay and no kind
    vanishes. The table is :func:`idprobe.training.run.input_table` (META ID's F term included).
    """
    run = _check_run(run)
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise ConfigError("max_tokens", "an integer >= 1", max_tokens)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError("seed", "a non-negative integer", seed)
    table = input_table(run.model)
    vocabulary = Vocabulary.from_tokenizer_dir(run.directory / "tokenizer")
    tokenizer = run.tokenizer
    new = set(run.assignment.new_tokens)
    kind_of_row: dict[int, str] = {}
    for token in run.assignment.tokens_used():
        for row in vocabulary.rows_of(token):
            kind = f"new {token_family(token)}" if token in new else VOCABULARY_ID
            kind_of_row.setdefault(row, kind)
    # New families in order of first appearance, then the vocabulary pieces.
    families = list(dict.fromkeys(kind_of_row.values()))
    ordered = [k for k in families if k != VOCABULARY_ID] + (
        [VOCABULARY_ID] if VOCABULARY_ID in families else []
    )
    rows = [r for kind in ordered for r, k in kind_of_row.items() if k == kind]
    kinds = [kind_of_row[r] for r in rows]
    rng = np.random.default_rng(seed)
    limit = min(len(tokenizer), table.shape[0])
    special = set(tokenizer.all_special_ids)
    others = np.array(
        [r for r in range(limit) if r not in kind_of_row and r not in special], dtype=np.int64
    )
    if others.size:
        drawn = np.sort(rng.choice(others, size=min(_OTHER_VOCABULARY, others.size), replace=False))
        rows += drawn.tolist()
        kinds += [VOCABULARY_OTHER] * drawn.size
    kind_count = len(dict.fromkeys(kinds))
    if max_tokens < kind_count:
        raise ConfigError(
            "max_tokens", f"an integer >= {kind_count} (one row per kind)", max_tokens
        )
    keep = np.arange(len(rows))
    if len(rows) > max_tokens:
        kind_array = np.array(kinds)
        firsts = np.array([np.flatnonzero(kind_array == k)[0] for k in dict.fromkeys(kinds)])
        rest = np.setdiff1d(keep, firsts)
        extra = rng.choice(rest, size=max_tokens - firsts.size, replace=False)
        keep = np.sort(np.concatenate((firsts, extra)))
    chosen = np.array(rows, dtype=np.int64)[keep]
    return TokenEmbeddings(
        tokens=tokenizer.convert_ids_to_tokens(chosen.tolist()),
        kinds=[kinds[k] for k in keep.tolist()],
        vectors=np.ascontiguousarray(table[chosen], dtype=np.float32),
        rows=chosen,
    )


# ---------------------------------------------------------------------------------- initial run


def _pristine_tokenizer(saved: Path, new_tokens: Sequence[str], out: Path) -> None:
    """Save to ``out`` the run's trained tokenizer as it was before the ID tokens were added.

    A run saves its tokenizer with the ID tokens in it. A trained-tokenizer backbone built from
    that tokenizer would get a table that already has rows for them (drawn by the model's own
    init, which also shifts every later random draw), and ``prepare_id_tokens`` would find no
    token to initialise: not the model training started from. Without the added ID tokens the
    construction is the one training did.
    """
    tokenizer = load_tokenizer(saved)
    state = json.loads(tokenizer.backend_tokenizer.to_str())
    new = set(new_tokens)
    state["added_tokens"] = [
        entry
        for entry in state.get("added_tokens", [])
        if entry.get("special") or entry["content"] not in new
    ]
    pristine = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(state)),
        pad_token=tokenizer.pad_token,
        eos_token=tokenizer.eos_token,
        unk_token=tokenizer.unk_token,
        model_max_length=tokenizer.model_max_length,
    )
    pristine.save_pretrained(str(out))


def initial_run(directory: str | Path) -> LoadedRun:
    """The run of ``directory`` as it was before its first training step.

    The same construction as :func:`idprobe.training.run.load_run` (settings, data, split, the
    saved IDs, backbone from the seed, new ID rows and F layer initialised as the settings say),
    without loading the trained weights, and for a backbone with a trained tokenizer (t5-tiny,
    t5-small, llama-tiny) from the saved tokenizer *without* its ID tokens, which training then
    adds, exactly as it did (:func:`_pristine_tokenizer`). Construction is seeded, so two calls
    give the same model, the one training started from; a run whose training has not finished
    (no ``model/``) works too.
    """
    directory = Path(directory)
    settings_path = directory / SETTINGS_FILE
    if not settings_path.exists():
        raise ConfigError("run", "a run directory with settings.json", str(directory))
    saved = json.loads(settings_path.read_text())
    settings = RunSettings.from_dict(saved["settings"])
    split = leave_one_out(settings.load_data(), max_his=settings.max_history)
    assignment = _assignment(settings, split, directory)
    if needs_trained_tokenizer(settings.backbone):
        with tempfile.TemporaryDirectory(prefix="idprobe-initial-") as scratch:
            _pristine_tokenizer(
                directory / "tokenizer", assignment.new_tokens, Path(scratch) / "tokenizer"
            )
            backbone, _ = _backbone(settings, assignment, None, Path(scratch))
    else:  # the backbone brings its own tokenizer, without ID tokens
        backbone, _ = _backbone(settings, assignment, None, directory)
    backbone.model.eval()
    return LoadedRun(directory, settings, backbone, assignment, split, saved["record"])
