"""Default sizes of the FTW network: the one source RPTH, `make_ftw_network`
and `FtwConfig` refer to.

RPTH's hidden and latent sizes (256) are those of the seed API; the rest
follow the sizes the FTW paper's agent uses where it gives them, and are
what `make_ftw_network` builds when asked for nothing else. Small tasks
(configs/catch.py) set smaller sizes explicitly.
"""

TORSO_HIDDEN_SIZE = 256
HIDDEN_SIZE = 256
NUM_DIMENSIONS = 256
RPTH_PERIOD = 10
MEMORY_SIZE = 128
WORD_SIZE = 32
NUM_READS = 1
NUM_WRITES = 1
HEAD_HIDDEN_SIZE = 256
CONV_FILTERS = ((32, 8, 4), (64, 4, 2))
RESIDUAL_FILTERS = ((64, 3, 1), (64, 3, 1))
# Dtypes FtwTorso's convolutions can compute in (variables stay float32).
TORSO_DTYPES = ('float32', 'bfloat16')
