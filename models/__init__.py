"""docexit models: the synthetic corpus and the multi-exit document encoder (pure PyTorch)."""
