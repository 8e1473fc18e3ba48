"""Neural Turing Machine memory (Graves et al. 2014) in Sonnet 2."""

from ftw.tf.networks.ntm.access import NTMAccess, NTMState

__all__ = ["NTMAccess", "NTMState"]
