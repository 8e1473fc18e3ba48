"""ftw: the For The Win agent on TensorFlow 2, Sonnet 2, Reverb and Ray."""

import os

# TensorFlow prints CUDA-not-found and factory-registration lines at import;
# hide its C++ log unless the user set TF_CPP_MIN_LOG_LEVEL themselves.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"
