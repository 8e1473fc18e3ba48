"""Differentiable Neural Computer memory (Graves et al. 2016) in Sonnet 2."""
