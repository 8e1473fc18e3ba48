"""ftw: the For The Win agent on TensorFlow 2, Sonnet 2, Reverb and Ray."""

import os

# TensorFlow prints CUDA-not-found and factory-registration lines at import;
# hide its C++ log unless the user set TF_CPP_MIN_LOG_LEVEL themselves.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# TensorFlow turns its oneDNN kernels on by itself only on CPUs with AVX512
# VNNI/BF16 or AMX. On an AVX2-only CPU they were off; turned on, the
# learners made 1.7-2.4x (configs/atari.py) and 1.4x (configs/atari_ftw.py)
# the samples/s (bench/pong.py), the first convolution's gradient 3.6x.
# On by default for every CPU; a user's own setting wins. It acts only when
# `ftw` is imported before TensorFlow (every launcher does so).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

__version__ = "0.1.0"
