"""Constrained beam search over a trie of the exact tokenised IDs (REFERENCE.md pitfalls 3 and 4).

A generative recommender answers with an item ID written as tokens. To rank items, idprobe runs
beam search in which every beam must stay on a path of an :class:`IdTrie` built from exactly the
token sequences of the catalogue (for seq2seq: the decoder start token, the ID's tokens, EOS; for
causal LMs: the ID's tokens and EOS). A finished beam therefore names exactly one item, and the
``num_return`` best beams are a top-k list of items.

Two ways to enforce the same constraint:

- :class:`TrieLogitsProcessor` (the default): one call per generation step for all beams at
  once; the generated prefix of every row is walked through the trie with vectorised table
  look-ups (a loop over positions, never over beams), then all tokens but the allowed children
  are set to ``-inf``. It also keeps transformers' placeholder beams (copies of the prompt
  scored -1e9, and finished beams kept running) from finishing as duplicates, which can
  otherwise fill the finished set and stop the search before longer IDs end.
- :func:`prefix_allowed_tokens_fn`: the callback of Hugging Face's ``prefix_allowed_tokens_fn``
  that P5 / OpenP5 use, a Python call per beam per step (pitfall 4: slow); kept for parity tests
  and the benchmark. It returns the same beams except when that duplicate problem strikes (a
  trie node with fewer children than beams), where it returns fewer valid IDs.

Scores. Hugging Face beam search adds, per step, ``log_softmax`` of the *unconstrained* logits
and then applies the processors; the constraint only removes tokens, it does not renormalise.
So the score of a returned sequence is its log-probability under the unconstrained model
(log-softmax over the whole vocabulary at each step, summed along the path), not renormalised
over the allowed tokens: exactly what transformers' own callback processor gives. With ``length_penalty=0`` (the
default here, pitfall 3) that sum is the ranking key; Hugging Face's default of 1.0 divides by
the length and favours longer IDs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import GenerationConfig, LogitsProcessor, LogitsProcessorList

from idprobe.errors import ConfigError, choices, verbatim

__all__ = [
    "CONSTRAINTS",
    "BeamResult",
    "IdTrie",
    "TrieLogitsProcessor",
    "beam_search",
    "prefix_allowed_tokens_fn",
]

CONSTRAINTS = ("processor", "callback", "none")

# Hugging Face initialises the beam slots it has not filled with a score of -1e9 and pushes
# beams it wants out of the way down by multiples of 1e9 (then divided by length ** penalty);
# no real log-probability gets near.
_FILLER_SCORE = -1.0e8


class IdTrie:
    """A prefix tree over token sequences, stored as flat tables for vectorised look-ups.

    Node 0 is the root (the empty prefix); every other node is one distinct prefix of a
    sequence. The children of node ``n`` are the edges ``child_start[n]:child_start[n + 1]``,
    with their tokens ascending in ``child_token`` and their nodes in ``child_node``. The edges
    are also keyed by ``parent * stride + token`` in ``edge_key`` (sorted, as the edges are laid
    out parent by parent, tokens ascending), so that ``(node, token) -> child`` for a whole
    batch is one binary search (``searchsorted``). ``node_value[n]`` is the value of the
    sequence that ends at ``n`` (its entity: a dense item index), -1 where none ends.

    Build it with :meth:`from_sequences`.
    """

    def __init__(
        self,
        child_start: np.ndarray,
        child_token: np.ndarray,
        child_node: np.ndarray,
        node_value: np.ndarray,
        sequences: tuple[tuple[int, ...], ...],
        values: np.ndarray,
    ) -> None:
        self.child_start = child_start
        self.child_token = child_token
        self.child_node = child_node
        self.node_value = node_value
        self.sequences = sequences
        self.values = values
        self.stride = int(child_token.max()) + 1
        parents = np.repeat(np.arange(len(child_start) - 1, dtype=np.int64), np.diff(child_start))
        self.edge_key = parents * self.stride + child_token
        self.max_length = max(len(s) for s in sequences)
        ends = {s[-1] for s in sequences}
        # The EOS token, when every sequence ends with the same token (the usual case).
        self.end_token: int | None = ends.pop() if len(ends) == 1 else None
        self._torch: dict[torch.device, tuple[torch.Tensor, ...]] = {}

    @classmethod
    def from_sequences(
        cls, sequences: Sequence[Sequence[int]], values: Sequence[int] | np.ndarray | None = None
    ) -> IdTrie:
        """The trie of ``sequences`` (lists of token ids), sequence ``k`` ending in ``values[k]``.

        Each sequence is the full sequence the decoder must produce: for seq2seq the decoder
        start token first, then the ID's tokens, EOS last; for causal LMs the ID's tokens and
        EOS. ``values`` are the entities (dense item indices, >= 0) of the sequences, by default
        ``0..n-1``. Two equal sequences are an error (the ID would not name one item).
        """
        if len(sequences) == 0:
            raise ConfigError("sequences", "at least one token sequence", verbatim("none"))
        if values is None:
            values = np.arange(len(sequences), dtype=np.int64)
        values = np.asarray(values)
        if values.shape != (len(sequences),) or not np.issubdtype(values.dtype, np.integer):
            raise ConfigError(
                "values",
                f"{len(sequences)} integers, one per sequence",
                verbatim(str(values.shape)),
            )
        values = values.astype(np.int64)
        if values.size and values.min() < 0:
            raise ConfigError("values", "entities >= 0 (-1 means 'not in the trie')", values.min())
        children: list[dict[int, int]] = [{}]
        node_value = [-1]
        ends_at: dict[int, int] = {}  # node -> index of the sequence ending there
        stored = []
        for k, sequence in enumerate(sequences):
            tokens = tuple(int(t) for t in sequence)
            if not tokens:
                raise ConfigError(f"sequences[{k}]", "at least one token", verbatim("()"))
            if min(tokens) < 0:
                raise ConfigError(f"sequences[{k}]", "token ids >= 0", tokens)
            node = 0
            for token in tokens:
                child = children[node].get(token)
                if child is None:
                    child = len(children)
                    children[node][token] = child
                    children.append({})
                    node_value.append(-1)
                node = child
            if node in ends_at:
                raise ConfigError(
                    "sequences",
                    "distinct token sequences (each ID must name one item)",
                    verbatim(f"sequence {k} repeats sequence {ends_at[node]}: {tokens}"),
                )
            ends_at[node] = k
            node_value[node] = int(values[k])
            stored.append(tokens)
        counts = np.fromiter((len(c) for c in children), dtype=np.int64, count=len(children))
        child_start = np.zeros(len(children) + 1, dtype=np.int64)
        np.cumsum(counts, out=child_start[1:])
        child_token = np.empty(child_start[-1], dtype=np.int64)
        child_node = np.empty(child_start[-1], dtype=np.int64)
        for node, edges in enumerate(children):
            if edges:
                tokens_sorted = sorted(edges)
                lo, hi = child_start[node], child_start[node + 1]
                child_token[lo:hi] = tokens_sorted
                child_node[lo:hi] = [edges[t] for t in tokens_sorted]
        return cls(
            child_start,
            child_token,
            child_node,
            np.asarray(node_value, dtype=np.int64),
            tuple(stored),
            values,
        )

    @property
    def n_nodes(self) -> int:
        return len(self.child_start) - 1

    @property
    def n_sequences(self) -> int:
        return len(self.sequences)

    def children(self, node: int) -> np.ndarray:
        """The tokens allowed after the prefix of ``node``, ascending."""
        return self.child_token[self.child_start[node] : self.child_start[node + 1]]

    def step(self, nodes: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """The child of each ``nodes[i]`` by ``tokens[i]``; -1 where there is none (or node -1)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        tokens = np.asarray(tokens, dtype=np.int64)
        valid = (nodes >= 0) & (tokens >= 0) & (tokens < self.stride)
        keys = np.where(valid, nodes * self.stride + tokens, -1)
        at = np.minimum(np.searchsorted(self.edge_key, keys), len(self.edge_key) - 1)
        found = valid & (self.edge_key[at] == keys)
        return np.where(found, self.child_node[at], -1)

    def lookup(self, sequence: Sequence[int]) -> int:
        """The value of ``sequence`` if it is one of the trie's sequences, else -1."""
        node = np.zeros(1, dtype=np.int64)
        for token in sequence:
            node = self.step(node, np.asarray([token]))
        return int(self.node_value[node[0]]) if node[0] >= 0 else -1

    def lookup_many(self, sequences: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Values of the rows ``sequences[i, :lengths[i]]`` (a 2-D int array), -1 for unknown ones."""
        sequences = np.asarray(sequences, dtype=np.int64)
        lengths = np.asarray(lengths, dtype=np.int64)
        nodes = np.zeros(len(sequences), dtype=np.int64)
        for position in range(sequences.shape[1] if sequences.ndim == 2 else 0):
            inside = position < lengths
            nodes = np.where(inside, self.step(nodes, sequences[:, position]), nodes)
        return np.where(nodes >= 0, self.node_value[np.maximum(nodes, 0)], -1)

    def torch_tables(self, device: torch.device) -> tuple[torch.Tensor, ...]:
        """``(edge_key, child_node, child_start, child_token)`` as int64 tensors on ``device``."""
        tables = self._torch.get(device)
        if tables is None:
            tables = tuple(
                torch.from_numpy(a).to(device)
                for a in (self.edge_key, self.child_node, self.child_start, self.child_token)
            )
            self._torch[device] = tables
        return tables

    def __repr__(self) -> str:
        return (
            f"IdTrie({self.n_sequences} sequences, {self.n_nodes} nodes, "
            f"longest {self.max_length}, end token {self.end_token})"
        )


class TrieLogitsProcessor(LogitsProcessor):
    """Keep only the tokens that continue a row's generated prefix along the trie.

    ``input_ids`` rows are walked through ``trie`` from position ``prefix_length`` on (0 for
    seq2seq, whose decoder start token is the trie's first token; the prompt width for causal
    LMs with left-padded prompts), one vectorised look-up per position for all rows. Every score
    outside the allowed children becomes ``-inf``; the allowed ones keep their value (no
    renormalisation).

    A row with nothing to continue (a complete sequence, after its EOS, or a prefix off the
    trie) gets no allowed token at all, every score ``-inf``. Hugging Face keeps finished beams
    in the running set, pushed down by -1e9, when fewer than ``num_beams`` others remain; were
    such a beam allowed EOS again, its second "hypothesis" (score about -1e9, a tie with the
    slots HF has not filled) could take a finished slot and stop the search before the longer
    IDs are done. With ``-inf`` it never can.

    With ``num_beams`` given, the rows are taken as groups of ``num_beams`` beams of one input,
    and a row whose node repeats the node of an earlier row of its group gets no allowed token
    either. Hugging Face starts beam search with every beam holding the same prompt (beams
    1.. scored -1e9); when a node has fewer children than there are beams, those copies would
    otherwise walk the same paths as beam 0 at about -1e9 and could fill finished slots the
    same way. Running beams are sorted by score, so the first row of a repeated node is the
    real one.

    The node of a row is recomputed from its prefix on every call instead of being cached: beam
    search reorders rows between steps, and IDs are a few tokens long.
    """

    def __init__(self, trie: IdTrie, prefix_length: int, *, num_beams: int | None = None) -> None:
        if prefix_length < 0:
            raise ConfigError("prefix_length", "an integer >= 0", prefix_length)
        if num_beams is not None and num_beams < 1:
            raise ConfigError("num_beams", "an integer >= 1 or None", num_beams)
        self.trie = trie
        self.prefix_length = int(prefix_length)
        self.num_beams = num_beams

    def nodes(self, input_ids: torch.Tensor) -> torch.Tensor:
        """The trie node of every row's generated prefix (-1 where it left the trie)."""
        edge_key, child_node, _, _ = self.trie.torch_tables(input_ids.device)
        stride = self.trie.stride
        last = edge_key.numel() - 1
        nodes = torch.zeros(input_ids.shape[0], dtype=torch.int64, device=input_ids.device)
        for position in range(self.prefix_length, input_ids.shape[1]):
            tokens = input_ids[:, position]
            valid = (nodes >= 0) & (tokens >= 0) & (tokens < stride)
            keys = nodes * stride + tokens
            at = torch.searchsorted(edge_key, keys).clamp_(max=last)
            found = valid & (edge_key[at] == keys)
            nodes = torch.where(found, child_node[at], -1)
        return nodes

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.trie.stride > scores.shape[1]:
            raise ConfigError(
                "trie",
                f"token ids below the model's vocabulary ({scores.shape[1]})",
                self.trie.stride - 1,
            )
        _, _, child_start, child_token = self.trie.torch_tables(scores.device)
        nodes = self.nodes(input_ids)
        safe = nodes.clamp(min=0)
        start = child_start[safe]
        count = torch.where(nodes >= 0, child_start[safe + 1] - start, 0)
        beams = self.num_beams
        if beams is not None and beams > 1 and nodes.numel() % beams == 0:
            groups = nodes.view(-1, beams)
            same = (groups[:, :, None] == groups[:, None, :]) & (groups[:, None, :] >= 0)
            earlier = torch.ones(beams, beams, dtype=torch.bool, device=nodes.device).tril_(-1)
            repeated = (same & earlier).any(dim=-1).view(-1)
            count = torch.where(repeated, 0, count)
        # The allowed (row, token) pairs: row r contributes its CSR range start[r]:start[r]+count[r].
        total = int(count.sum())
        rows = torch.repeat_interleave(
            torch.arange(nodes.numel(), device=nodes.device), count, output_size=total
        )
        first = torch.cumsum(count, 0) - count
        edges = torch.repeat_interleave(start - first, count, output_size=total) + torch.arange(
            total, device=nodes.device
        )
        allowed = child_token[edges]
        out = torch.full_like(scores, -math.inf)
        out[rows, allowed] = scores[rows, allowed]
        return out


def prefix_allowed_tokens_fn(
    trie: IdTrie, prefix_length: int, *, idle_token_id: int | None = None
) -> Callable[[int, torch.Tensor], list[int]]:
    """The per-beam callback for ``generate(prefix_allowed_tokens_fn=...)`` (the P5 / OpenP5 way).

    Looks the generated prefix (``sent[prefix_length:]``) up in a Python dict from every prefix
    of the trie's sequences to its allowed next tokens. Same constraint as
    :class:`TrieLogitsProcessor`, one Python call per beam per step.

    A complete or unknown prefix gets ``[idle_token_id]``: transformers rejects an empty list,
    and the token must not be the trie's EOS, or a finished beam kept running (at about -1e9)
    would finish a second time and could take a finished slot (see
    :class:`TrieLogitsProcessor`). By default the smallest id that is not the end token.
    """
    if idle_token_id is None:
        idle_token_id = 1 if trie.end_token == 0 else 0
    if idle_token_id == trie.end_token:
        raise ConfigError("idle_token_id", "a token other than the trie's EOS", idle_token_id)
    following: dict[tuple[int, ...], set[int]] = {}
    for sequence in trie.sequences:
        for cut in range(len(sequence)):
            following.setdefault(sequence[:cut], set()).add(sequence[cut])
    allowed = {prefix: sorted(tokens) for prefix, tokens in following.items()}
    idle = [int(idle_token_id)]

    def allowed_tokens(batch_id: int, sent: torch.Tensor) -> list[int]:
        return allowed.get(tuple(sent[prefix_length:].tolist()), idle)

    return allowed_tokens


@dataclass(frozen=True)
class BeamResult:
    """The ``num_return`` best beams of every input, best first.

    ``items[b, k]``: the trie value (dense item index) of beam ``k`` of input ``b``; -1 where the
    beam is not a trie sequence (only possible with ``constraint="none"``) or where there was
    no beam to return (fewer valid sequences than ``num_return``). ``scores[b, k]``: its summed
    token log-probability (divided by ``length ** length_penalty``), ``-inf`` for missing beams.
    ``sequences[b, k]``: the generated tokens in trie coordinates (seq2seq: decoder start token
    first) up to and including the first EOS, padded with -1.
    """

    items: np.ndarray
    scores: np.ndarray
    sequences: np.ndarray


def _eos_ids(model: Any) -> set[int]:
    eos = model.generation_config.eos_token_id
    if eos is None:
        eos = model.config.get_text_config(decoder=True).eos_token_id
    if eos is None:
        return set()
    return {int(e) for e in eos} if isinstance(eos, list | tuple) else {int(eos)}


def _greedy_scores(
    output: Any, tokens: np.ndarray, lengths: np.ndarray, length_penalty: float
) -> np.ndarray:
    """Summed log-probabilities of greedy paths from the raw logits of every step."""
    steps = torch.stack(output.logits, dim=1).float()  # (batch, steps, vocab)
    logp = torch.log_softmax(steps, dim=-1).cpu().numpy().astype(np.float64)
    picked = np.take_along_axis(logp, tokens[:, : logp.shape[1], None], axis=2)[..., 0]
    inside = np.arange(picked.shape[1])[None, :] < lengths[:, None]
    total = np.where(inside, picked, 0.0).sum(axis=1)
    return total / np.maximum(lengths, 1).astype(np.float64) ** length_penalty


def _check_left_padded(attention_mask: torch.Tensor) -> None:
    mask = attention_mask != 0
    # Left padding: every row is zeros then ones, so it never goes from 1 back to 0.
    if bool((mask[:, :-1] & ~mask[:, 1:]).any()) or not bool(mask[:, -1].all()):
        bad = int(((mask[:, :-1] & ~mask[:, 1:]).any(1) | ~mask[:, -1]).nonzero()[0, 0])
        raise ConfigError(
            "attention_mask",
            "left-padded prompts for a causal LM (each row zeros then ones)",
            verbatim(f"row {bad} = {attention_mask[bad].tolist()}"),
        )


def beam_search(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    trie: IdTrie,
    *,
    num_beams: int = 10,
    num_return: int | None = None,
    constraint: str = "processor",
    length_penalty: float = 0.0,
    max_new_tokens: int | None = None,
) -> BeamResult:
    """The ``num_return`` best IDs of ``trie`` for each input, by beam search with ``model``.

    ``model`` is a Hugging Face encoder-decoder (``config.is_encoder_decoder``; ``input_ids``
    are the encoder inputs, any padding) or causal LM (``input_ids`` are the prompts, which must
    be left-padded; the generated part starts at column ``input_ids.shape[1]``). The trie's
    sequences must all end with the model's EOS token and, for encoder-decoders, start with its
    decoder start token.

    ``constraint``: ``"processor"`` (:class:`TrieLogitsProcessor`), ``"callback"``
    (:func:`prefix_allowed_tokens_fn`: the same constraint, slower; transformers' bookkeeping
    around it can lose valid IDs when a trie node has fewer children than there are beams, see
    :class:`TrieLogitsProcessor`) or ``"none"`` (free generation; the sequences are looked up in
    the trie afterwards, -1 where absent). ``length_penalty=0``
    ranks by summed log-probability (REFERENCE.md pitfall 3). ``max_new_tokens`` defaults to
    the longest trie sequence. When the trie has fewer sequences than ``num_beams`` the search
    uses that many beams, and the result is padded with -1 / ``-inf``.

    The scores are the unconstrained model's log-probabilities summed along the returned path
    (no renormalisation over the allowed tokens), as with transformers' own callback processor.
    The model's ``generation_config`` is replaced for the call by a neutral one (no repetition
    penalty, no n-gram blocking, no suppressed tokens), so nothing but the trie changes the
    scores; the model runs in eval mode under ``torch.inference_mode()`` and gets its mode back.
    ``input_ids`` and ``attention_mask`` are moved to the model's device.
    """
    if constraint not in CONSTRAINTS:
        raise ConfigError("constraint", choices(CONSTRAINTS), constraint)
    if not isinstance(num_beams, int) or num_beams < 1:
        raise ConfigError("num_beams", "an integer >= 1", num_beams)
    num_return = num_beams if num_return is None else num_return
    if not isinstance(num_return, int) or not 1 <= num_return <= num_beams:
        raise ConfigError("num_return", f"an integer in 1..num_beams ({num_beams})", num_return)
    if input_ids.ndim != 2 or input_ids.shape[0] == 0:
        raise ConfigError("input_ids", "a 2-D (batch, length) tensor", tuple(input_ids.shape))
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    if attention_mask.shape != input_ids.shape:
        raise ConfigError(
            "attention_mask",
            f"the shape of input_ids {tuple(input_ids.shape)}",
            tuple(attention_mask.shape),
        )
    eos = trie.end_token
    model_eos = _eos_ids(model)
    if eos is None or eos not in model_eos:
        ends = sorted({s[-1] for s in trie.sequences})
        raise ConfigError(
            "trie",
            f"sequences that all end with the model's EOS {sorted(model_eos)}",
            verbatim(f"last tokens {ends[:5]}"),
        )
    vocab = model.get_output_embeddings().weight.shape[0]
    if trie.stride > vocab:
        raise ConfigError(
            "trie", f"token ids below the model's vocabulary ({vocab})", trie.stride - 1
        )
    text_config = model.config.get_text_config(decoder=True)
    encoder_decoder = bool(model.config.is_encoder_decoder)
    special: dict[str, int] = {"eos_token_id": eos}
    if encoder_decoder:
        start = model.generation_config.decoder_start_token_id
        if start is None:
            start = model.config.decoder_start_token_id
        firsts = trie.children(0).tolist()
        if firsts != [start]:
            raise ConfigError(
                "trie",
                f"sequences starting with the decoder start token {start}",
                verbatim(f"first tokens {firsts[:5]}"),
            )
        special["decoder_start_token_id"] = int(start)
        prefix_length = 0
        longest = trie.max_length - 1
    else:
        _check_left_padded(attention_mask)
        prefix_length = input_ids.shape[1]
        longest = trie.max_length
    pad = model.generation_config.pad_token_id
    if pad is None:
        pad = text_config.pad_token_id
    special["pad_token_id"] = eos if pad is None else int(pad)
    if max_new_tokens is None:
        max_new_tokens = longest
    if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ConfigError("max_new_tokens", "an integer >= 1", max_new_tokens)

    beams = num_beams if constraint == "none" else min(num_beams, trie.n_sequences)
    returned = min(num_return, beams)
    # One beam is greedy search in transformers, which returns no sequence scores: then the
    # raw logits come back and the path's log-probability is summed here.
    greedy = beams == 1
    search: dict[str, Any] = (
        {"output_logits": True}
        if greedy
        else {
            "num_beams": beams,
            "num_return_sequences": returned,
            "length_penalty": float(length_penalty),
            "early_stopping": True,
            "output_scores": True,
        }
    )
    config = GenerationConfig(
        do_sample=False,
        max_new_tokens=max_new_tokens,
        min_length=0,
        repetition_penalty=1.0,
        no_repeat_ngram_size=0,
        encoder_no_repeat_ngram_size=0,
        return_dict_in_generate=True,
        use_cache=True,
        **search,
        **special,
    )
    extra: dict[str, Any] = {}
    if constraint == "processor":
        processor = TrieLogitsProcessor(trie, prefix_length, num_beams=beams)
        extra["logits_processor"] = LogitsProcessorList([processor])
    elif constraint == "callback":
        idle = special["pad_token_id"] if special["pad_token_id"] != eos else None
        extra["prefix_allowed_tokens_fn"] = prefix_allowed_tokens_fn(
            trie, prefix_length, idle_token_id=idle
        )

    # generate() fills every unset field from model.generation_config (a checkpoint's
    # suppress_tokens, bad_words_ids, ...); a blank one leaves only the trie to change scores.
    # A PEFT wrapper generates with its base model's config, so that is the one to swap.
    holder = model.get_base_model() if hasattr(model, "get_base_model") else model
    saved_config, was_training = holder.generation_config, model.training
    holder.generation_config = GenerationConfig(**special)
    model.eval()
    try:
        with torch.inference_mode():
            output = model.generate(
                input_ids=input_ids.to(model.device),
                attention_mask=attention_mask.to(model.device),
                generation_config=config,
                **extra,
            )
    finally:
        holder.generation_config = saved_config
        model.train(was_training)

    batch = input_ids.shape[0]
    generated = output.sequences[:, prefix_length:].cpu().numpy().astype(np.int64)
    # Cut each sequence after its first EOS (for seq2seq, after the start token, which may be pad).
    skip = 1 if encoder_decoder else 0
    is_eos = generated[:, skip:] == eos
    has_eos = is_eos.any(axis=1)
    lengths = np.where(has_eos, is_eos.argmax(axis=1) + skip + 1, generated.shape[1])
    if greedy:
        scores = _greedy_scores(output, generated[:, skip:], lengths - skip, float(length_penalty))
    else:
        scores = output.sequences_scores.float().cpu().numpy().astype(np.float64)
    items = trie.lookup_many(generated, lengths)
    width = generated.shape[1]
    filler = ~(scores > _FILLER_SCORE / max(1, width) ** max(float(length_penalty), 0.0))
    items[filler] = -1
    scores[filler] = -np.inf
    generated = np.where(np.arange(width)[None, :] < lengths[:, None], generated, -1)
    generated[filler] = -1

    out_items = np.full((batch, num_return), -1, dtype=np.int64)
    out_scores = np.full((batch, num_return), -np.inf, dtype=np.float64)
    out_sequences = np.full((batch, num_return, width), -1, dtype=np.int64)
    out_items[:, :returned] = items.reshape(batch, returned)
    out_scores[:, :returned] = scores.reshape(batch, returned)
    out_sequences[:, :returned] = generated.reshape(batch, returned, width)
    return BeamResult(items=out_items, scores=out_scores, sequences=out_sequences)
