"""Everything that touches a language model's vocabulary, embeddings and training.

The only package allowed to import torch, transformers or tokenizers, and even here they are
imported inside the functions that need them, so importing a module of this package stays cheap.
"""
