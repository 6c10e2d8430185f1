"""The baseline networks (torch). Import through ``baselines.registry.model_class``."""
