"""One training run: data -> split -> IDs -> prompts -> tokenizer -> backbone -> ``fit`` -> run directory.

Every strategy goes through exactly this path with the same settings, so differences between
runs come from the IDs (and the factors the settings name, such as the user scheme) and nothing
else. A run directory holds everything needed to evaluate or resume it:

```
RUN/settings.json          resolved settings, provenance, backbone and new-row records
RUN/assignment/            the ID assignment (assignment.json)
RUN/tokenizer/             the tokenizer, ID tokens included
RUN/trainer/               the trainer's checkpoints, train_log.jsonl, best/, selection.json
RUN/model/                 final weights (model.safetensors) of the selected epoch
```

Each stage is written atomically; a killed run restarted with ``resume=True`` reuses the saved
assignment and tokenizer and continues training from the last complete epoch.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_model, save_model
from transformers import EncoderDecoderModel

from idprobe.data import Interactions, leave_one_out, load_dataset
from idprobe.data.splits import LeaveOneOutSplit
from idprobe.errors import ConfigError, choices, verbatim
from idprobe.ids import IdAssignment, get_strategy
from idprobe.ids.base import data_fingerprint
from idprobe.prompts import TASKS, PromptExample, item_phrases, training_examples
from idprobe.results import Provenance, atomic_write_json
from idprobe.training.augment import AugmentedEmbedding, install_augmentation
from idprobe.training.backbones import (
    Backbone,
    apply_lora,
    build_backbone,
    needs_trained_tokenizer,
)
from idprobe.training.batching import TokenizedExample
from idprobe.training.decoding import IdTrie
from idprobe.training.distributed import barrier, init_from_environment, world
from idprobe.training.embeddings import NEW_ROW_INITS, NUMERIC_REINITS, prepare_id_tokens
from idprobe.training.tokenizer import load_tokenizer, train_tokenizer
from idprobe.training.trainer import FitResult, TrainConfig, fit, load_best

__all__ = [
    "AUGMENT_MODES",
    "LoadedRun",
    "RunSettings",
    "input_table",
    "item_trie",
    "load_run",
    "render_examples",
    "target_ids",
    "train_run",
]

log = logging.getLogger(__name__)

AUGMENT_MODES = ("auto", "on", "off")
SETTINGS_FILE = "settings.json"
_MODEL_FILE = "model.safetensors"


@dataclass(frozen=True)
class RunSettings:
    """Everything a run depends on; the keys of a TOML run file are exactly these fields.

    Data: ``dataset`` (path or built-in name), ``data_format``, ``data_options``, ``k_core``,
    ``max_history`` (items kept in a prompt's history; META ID uses 10, OpenP5 20).
    IDs: ``strategy`` and ``strategy_params``; ``user_scheme`` ``numeric`` (``user_k``) or
    ``strategy`` (the strategy's user IDs).
    Prompts: ``tasks``, ``templates`` (``seen``/``unseen``/``all``), ``templates_per_sample``
    (``"all"`` renders every template for each sample, as META ID does; an int draws that many).
    Model: ``backbone`` (built-in name or local directory), ``vocab_size`` (trained tokenizers),
    ``dropout``, ``init``/``init_std``/``numeric_reinit`` (``training.embeddings``), ``augment``
    (the META ID F layer: ``auto`` = on when the assignment has token vectors), ``alpha``,
    ``lora``/``lora_rank`` (causal LMs).
    Optimisation: ``epochs``, ``batch_size``, ``learning_rate``, ``weight_decay``,
    ``warmup_ratio``, ``grad_accum``, ``max_grad_norm``, ``precision``, ``max_source_tokens``,
    ``threads`` (torch CPU threads while training; ``None`` keeps torch's default. Small models
    train fastest on one thread: on a busy 2-core machine two threads were up to 17x slower).
    ``seed`` is the only source of randomness (IDs, template draws, weights, data order).
    """

    dataset: str = "synthetic"
    data_format: str | None = None
    data_options: Mapping[str, Any] = field(default_factory=dict)
    k_core: int | None = None
    max_history: int = 20
    strategy: str = "rid"
    strategy_params: Mapping[str, Any] = field(default_factory=dict)
    user_scheme: str = "numeric"
    tasks: tuple[str, ...] = ("sequential", "direct")
    templates: str = "seen"
    templates_per_sample: int | str = 1
    backbone: str = "t5-tiny"
    vocab_size: int = 2000
    dropout: float = 0.1
    init: str = "normal"
    init_std: float = 1.0
    numeric_reinit: str = "none"
    augment: str = "auto"
    alpha: float = 0.1
    lora: bool = False
    lora_rank: int = 8
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.05
    grad_accum: int = 1
    max_grad_norm: float = 1.0
    precision: str = "auto"
    max_source_tokens: int = 512
    threads: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        unknown = [t for t in self.tasks if t not in TASKS]
        if not self.tasks or unknown:
            raise ConfigError(
                "tasks", f"a non-empty subset of {', '.join(TASKS)}", list(self.tasks)
            )
        if self.augment not in AUGMENT_MODES:
            raise ConfigError("augment", choices(AUGMENT_MODES), self.augment)
        if self.init not in NEW_ROW_INITS:
            raise ConfigError("init", choices(NEW_ROW_INITS), self.init)
        if self.numeric_reinit not in NUMERIC_REINITS:
            raise ConfigError(
                "numeric_reinit",
                choices(NUMERIC_REINITS),
                self.numeric_reinit,
            )
        if not isinstance(self.max_source_tokens, int) or self.max_source_tokens < 8:
            raise ConfigError("max_source_tokens", "an integer >= 8", self.max_source_tokens)
        self.train_config()  # trainer fields are checked by TrainConfig itself

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> RunSettings:
        """Settings from a dict (TOML, JSON); an unknown key is an error that names it."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in names:
                raise ConfigError("settings", f"a key among {', '.join(names)}", key)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["tasks"] = list(self.tasks)
        out["data_options"] = dict(self.data_options)
        out["strategy_params"] = dict(self.strategy_params)
        return out

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            warmup_ratio=self.warmup_ratio,
            max_grad_norm=self.max_grad_norm,
            grad_accum=self.grad_accum,
            precision=self.precision,
            seed=self.seed,
        )

    def load_data(self) -> Interactions:
        return load_dataset(
            self.dataset, self.data_format, k_core=self.k_core, **dict(self.data_options)
        )


@dataclass
class LoadedRun:
    """A run directory brought back to life: model, tokenizer, IDs and split, ready to evaluate."""

    directory: Path
    settings: RunSettings
    backbone: Backbone
    assignment: IdAssignment
    split: LeaveOneOutSplit
    record: dict[str, Any]
    _trie: IdTrie | None = field(default=None, init=False, repr=False)

    @property
    def model(self) -> Any:
        return self.backbone.model

    @property
    def tokenizer(self) -> Any:
        return self.backbone.tokenizer

    def item_trie(self) -> IdTrie:
        """The trie of every item's tokenised target (decoder start ... EOS), values = item index.

        Built once: the tokenizer and IDs of a run do not change, and validation asks every epoch.
        """
        if self._trie is None:
            self._trie = item_trie(self.backbone, self.assignment, self.split.interactions)
        return self._trie


def item_trie(backbone: Backbone, assignment: IdAssignment, interactions: Interactions) -> IdTrie:
    """Trie over exactly the target strings the model was trained to produce for each item."""
    phrases = item_phrases(assignment, interactions)
    start = [] if backbone.decoder_start_token_id is None else [backbone.decoder_start_token_id]
    return IdTrie.from_sequences([start + ids for ids in target_ids(backbone.tokenizer, phrases)])


def target_ids(tokenizer: Any, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of target texts as the model must write them: content, then EOS.

    Tokenizers differ in their special tokens: T5's adds only EOS, BERT's wraps the text in
    [CLS] ... [SEP] (SEP is then the EOS), LLaMA's adds only BOS. A leading BOS/CLS is dropped
    and a missing EOS appended, so every backbone learns and decodes the same shape.
    """
    eos = tokenizer.eos_token_id
    leading = {tokenizer.bos_token_id, tokenizer.cls_token_id} - {None, eos}
    out = []
    for ids in tokenizer(list(texts))["input_ids"]:
        ids = list(ids)
        if ids and ids[0] in leading:
            ids = ids[1:]
        if not ids or ids[-1] != eos:
            ids.append(eos)
        out.append(ids)
    return out


def _augment_on(settings: RunSettings, assignment: IdAssignment, backbone: Backbone) -> bool:
    if settings.augment == "off":
        return False
    has_vectors = bool(assignment.vector_tokens)
    if isinstance(backbone.model, EncoderDecoderModel):
        # bert2bert has two input tables; one F for both is not what the paper describes.
        if settings.augment == "on":
            raise ConfigError("augment", "a T5 or causal-LM backbone for the F layer", "minilm")
        return False
    if settings.augment == "on" and not has_vectors:
        raise ConfigError(
            "augment",
            "an assignment with token vectors for augment=on (META ID centroids, IID metapath)",
            f"{assignment.strategy} without vectors",
        )
    return has_vectors


def _assignment(settings: RunSettings, split: LeaveOneOutSplit, directory: Path) -> IdAssignment:
    saved = directory / "assignment"
    strategy = get_strategy(settings.strategy, **dict(settings.strategy_params))
    if (saved / "assignment.json").exists():
        # Reused only if built by the same strategy, parameters, seed and data (REFERENCE
        # pitfall 7: an ID cache keyed by less than that silently swaps the mapping).
        assignment = IdAssignment.load(saved)
        built = (assignment.strategy, dict(assignment.params), assignment.seed, assignment.data)
        wanted = (
            strategy.name,
            json.loads(json.dumps(strategy.params(), default=list)),
            settings.seed,
            data_fingerprint(split.training_view),
        )
        if json.dumps(built, sort_keys=True, default=str) != json.dumps(
            wanted, sort_keys=True, default=str
        ):
            raise ConfigError(
                "run",
                f"IDs in {saved} built by {strategy.name} with these parameters, seed and data",
                verbatim("an assignment built otherwise"),
            )
        return assignment
    assignment = strategy.assign(split.training_view, seed=settings.seed)
    assignment.save(saved)
    return assignment


def _backbone(
    settings: RunSettings,
    assignment: IdAssignment,
    corpus: Sequence[str] | None,
    directory: Path,
) -> tuple[Backbone, dict[str, Any]]:
    """Tokenizer + model with the ID tokens, new rows initialised, F layer and LoRA installed."""
    saved = directory / "tokenizer"
    if needs_trained_tokenizer(settings.backbone):
        if (saved / "tokenizer.json").exists():
            tokenizer = load_tokenizer(saved)
        elif corpus is None:
            raise ConfigError("run", f"a saved tokenizer in {saved}", verbatim("missing"))
        else:
            tokenizer = train_tokenizer(corpus, vocab_size=settings.vocab_size)
        backbone = build_backbone(
            settings.backbone, tokenizer=tokenizer, seed=settings.seed, dropout=settings.dropout
        )
    else:
        backbone = build_backbone(settings.backbone, seed=settings.seed)
    vectors = assignment.token_vectors
    rows = prepare_id_tokens(
        backbone.model,
        backbone.tokenizer,
        assignment.new_tokens,
        init=settings.init,
        std=settings.init_std,
        vectors=vectors,
        numeric_reinit=settings.numeric_reinit,
        seed=settings.seed,
    )
    record: dict[str, Any] = {"new_rows": rows, "augment": None}
    if _augment_on(settings, assignment, backbone):
        ids = backbone.tokenizer.convert_tokens_to_ids(list(assignment.vector_tokens))
        install_augmentation(
            backbone.model, ids, assignment.vectors, alpha=settings.alpha, seed=settings.seed
        )
        record["augment"] = {
            "alpha": settings.alpha,
            "tokens": len(ids),
            "vector_dim": int(assignment.vectors.shape[1]),
        }
    if settings.lora:
        new_ids = backbone.tokenizer.convert_tokens_to_ids(list(assignment.new_tokens))
        apply_lora(backbone, new_ids, rank=settings.lora_rank)
    if not saved.exists():
        backbone.tokenizer.save_pretrained(str(saved))
    record["backbone"] = backbone.description
    return backbone, record


def input_table(model: Any) -> np.ndarray:
    """The model's input-embedding table as float32 numpy, as the model reads it: with the F
    layer installed, ``E + alpha F(c)`` on the rows that have vectors (bert2bert: the encoder's)."""
    layer = model.get_input_embeddings()
    with torch.no_grad():
        weight = layer.effective_weight() if isinstance(layer, AugmentedEmbedding) else layer.weight
        return weight.detach().float().cpu().numpy()


def render_examples(
    settings: RunSettings, split: LeaveOneOutSplit, assignment: IdAssignment
) -> list[PromptExample]:
    """The training prompts of a run: its tasks, templates and user scheme on the split."""
    return training_examples(
        split,
        assignment,
        settings.tasks,
        user_scheme=settings.user_scheme,
        templates=settings.templates,
        per_sample=settings.templates_per_sample,
        seed=settings.seed,
    )


def _tokenize(
    backbone: Backbone, examples: Sequence[PromptExample], max_source_tokens: int
) -> list[TokenizedExample]:
    tokenizer = backbone.tokenizer
    sources = tokenizer(
        [e.source for e in examples], truncation=True, max_length=max_source_tokens
    )["input_ids"]
    targets = target_ids(tokenizer, [e.target for e in examples])
    return [TokenizedExample(tuple(s), tuple(t)) for s, t in zip(sources, targets, strict=True)]


def train_run(
    settings: RunSettings,
    directory: str | Path,
    *,
    resume: bool = False,
    validate: Callable[[LoadedRun, int], float] | None = None,
    selection: str = "max",
    progress: bool = True,
) -> FitResult:
    """Train one run into ``directory`` (module docstring); returns the trainer's result.

    ``validate(run, epoch)`` scores the model after each epoch for model selection (the
    evaluation layer supplies it: ``training`` never computes metrics); the selected epoch's
    weights become ``RUN/model``. Without it the last epoch is kept.
    """
    directory = Path(directory)
    settings_path = directory / SETTINGS_FILE
    # Under torchrun every process runs this; rank 0 builds what is shared (IDs, tokenizer,
    # settings.json) and the others load it, so the processes train on identical inputs.
    init_from_environment()
    rank, _ = world()
    if settings_path.exists() and not resume:
        raise ConfigError(
            "out", "a new run directory (or --resume)", verbatim(f"{directory} already holds a run")
        )
    if resume and settings_path.exists():
        saved = RunSettings.from_dict(json.loads(settings_path.read_text())["settings"])
        if saved != settings:
            raise ConfigError(
                "resume", "the settings the run was started with", "different settings"
            )
    barrier()  # every process has checked before rank 0 writes anything
    directory.mkdir(parents=True, exist_ok=True)
    interactions = settings.load_data()
    split = leave_one_out(interactions, max_his=settings.max_history)
    assignment = _rank_zero_first(rank, lambda: _assignment(settings, split, directory))
    examples = render_examples(settings, split, assignment)
    corpus = [text for e in examples for text in (e.source, e.target)]
    backbone, record = _rank_zero_first(
        rank, lambda: _backbone(settings, assignment, corpus, directory)
    )
    tokenized = _tokenize(backbone, examples, settings.max_source_tokens)
    record["examples"] = len(tokenized)
    record["tokenizer_size"] = len(backbone.tokenizer)
    record["cold_test_targets"] = split.cold_test_targets
    if rank == 0:
        atomic_write_json(
            settings_path,
            {
                "settings": settings.to_dict(),
                "provenance": Provenance(seed=settings.seed, config=settings.to_dict()).to_dict(),
                "record": record,
            },
        )
    run = LoadedRun(directory, settings, backbone, assignment, split, record)
    callback = None
    if validate is not None:

        def callback(model: Any, epoch: int) -> float:
            return validate(run, epoch)

        # The trainer records the callback by name in the selection rule.
        callback.__name__ = callback.__qualname__ = getattr(validate, "__name__", "validate")
    result = fit(
        backbone.model,
        tokenized,
        settings.train_config(),
        directory / "trainer",
        kind=backbone.kind,
        pad_token_id=backbone.tokenizer.pad_token_id,
        validate=callback,
        selection=selection,
        resume=resume,
        progress=progress,
        threads=settings.threads,
    )
    if rank == 0:
        _save_final(backbone, directory, result)
    barrier()
    return result


def _rank_zero_first(rank: int, build: Callable[[], Any]) -> Any:
    """Rank 0 builds (and saves); then the other processes build, loading what it saved."""
    if rank == 0:
        value = build()
        barrier()
        return value
    barrier()
    return build()


def _save_final(backbone: Backbone, directory: Path, result: FitResult) -> None:
    """Write the selected epoch's weights to RUN/model atomically (replacing an older one)."""
    if result.best_score is not None:  # a validation callback chose; else the last epoch stays
        load_best(backbone.model, directory / "trainer")
    target, tmp = directory / "model", directory / ".model.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_model(backbone.model, str(tmp / _MODEL_FILE))
    atomic_write_json(
        tmp / "selected.json",
        {
            "epoch": result.best_epoch,
            "score": result.best_score,
            "rule": result.selection_rule,
            # This call's training cost (a resumed run counts only what it trained).
            "seconds": result.seconds,
            "examples_per_second": result.examples_per_second,
            "steps": result.steps,
            "precision": result.precision,
            "processes": result.world_size,
        },
    )
    shutil.rmtree(target, ignore_errors=True)
    tmp.replace(target)


def load_run(directory: str | Path) -> LoadedRun:
    """Rebuild a trained run from its directory: same construction as training, then its weights."""
    directory = Path(directory)
    settings_path = directory / SETTINGS_FILE
    if not settings_path.exists():
        raise ConfigError("run", "a run directory with settings.json", str(directory))
    weights = directory / "model" / _MODEL_FILE
    if not weights.exists():
        raise ConfigError("run", f"a finished run ({weights} exists)", "no trained model")
    saved = json.loads(settings_path.read_text())
    settings = RunSettings.from_dict(saved["settings"])
    interactions = settings.load_data()
    split = leave_one_out(interactions, max_his=settings.max_history)
    assignment = _assignment(settings, split, directory)
    backbone, _ = _backbone(settings, assignment, None, directory)
    load_model(backbone.model, str(weights))
    backbone.model.eval()
    return LoadedRun(directory, settings, backbone, assignment, split, saved["record"])
