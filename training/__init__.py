"""Training package: data generation, SFT, LbT + DPO, evaluation and tiny local test models."""
