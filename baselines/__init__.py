"""Classic sequential recommenders (Pop, SASRec, GRU4Rec, ...) on idprobe's splits and metrics.

Empty until the baselines issue lands; it is a package now so that ``pip install`` ships it.
"""
