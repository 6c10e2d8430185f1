"""Everything that touches a language model: tokenizer, backbones, new ID rows, the META ID F
layer, the shared trainer, constrained decoding, and one training run end to end.

The only package allowed to import torch, transformers, tokenizers or peft at module level
(DESIGN.md). Its torch-free modules (``vocabulary``, ``pretrained``, ``new_rows``) are imported
by torch-free layers, so this ``__init__`` imports nothing: ``import idprobe.training.X`` loads
only what ``X`` needs.

* ``tokenizer``: offline tokenizers trained on the prompt corpus; adding ID tokens.
* ``backbones``: ``t5-tiny``, ``t5-small``, ``llama-tiny``, ``minilm``, local directories, LoRA.
* ``embeddings``: explicit, recorded initialisation of new rows; numeric sub-token re-init.
* ``augment``: the META ID layer ``E[t] + alpha F(c_t)`` as an embedding wrapper.
* ``batching``, ``trainer``: collation and the one ``fit`` (resume, selection, DDP);
  ``checkpoints`` (the atomic files it writes and reads) and ``optim`` (AdamW, schedule,
  precision) are its parts.
* ``decoding``: the ID trie and constrained beam search.
* ``distributed``: contiguous shards and one gather for evaluation.
* ``run``: a run directory from settings (data -> IDs -> prompts -> model -> fit).
* ``introspection``: attention maps (Fig. 8b), ID token embeddings (Fig. 8a), the initial model.
"""
