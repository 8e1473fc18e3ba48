"""TensorFlow 2 parts of ftw: networks, losses, internal rewards."""
