"""TensorFlow's thread pools for a training process.

TensorFlow sizes its pools once, when the process runs its first op: the
intra-op pool splits one op (a convolution, a matrix product) across
threads, the inter-op pool runs independent ops at the same time. Both
default to one thread per core. Where an actor, its environments and a
learner share a few cores in one process (`launch.local`), splitting every
op across all cores makes each wait for its slowest part while the other
threads hold the cores: on a 2-core machine the full FTW agent on Pong ran
1,291 frames/s with one intra-op thread and four inter-op threads against
1,170 with the defaults (240-s runs of bench/pong.py, see configs/atari.py).
"""

import logging
from typing import Tuple

from ftw import checks

_log = logging.getLogger("ftw.tf_threads")


def set_tensorflow_threads(intra_op_threads: int, inter_op_threads: int,
                           what: str = "") -> bool:
  """Sizes TensorFlow's pools; 0 leaves a pool at TensorFlow's default.

  Must run before the process's first TensorFlow op. If an op has already
  run with other sizes, TensorFlow can no longer change them: this logs a
  warning naming the request and returns False (the process trains on, with
  the pools it has). Returns True when the pools have the requested sizes.

  Args:
    intra_op_threads: threads that share one op (>= 0; 0: default).
    inter_op_threads: ops run at the same time (>= 0; 0: default).
    what: who asks, for the warning (e.g. "launch.local").
  """
  checks.check_int("intra_op_threads", intra_op_threads, 0)
  checks.check_int("inter_op_threads", inter_op_threads, 0)
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  threading = tf.config.threading
  try:
    if intra_op_threads:
      threading.set_intra_op_parallelism_threads(intra_op_threads)
    if inter_op_threads:
      threading.set_inter_op_parallelism_threads(inter_op_threads)
  except RuntimeError as e:  # TensorFlow already ran an op in this process.
    _log.warning(
        "%scould not set intra_op_threads=%d, inter_op_threads=%d (now %d "
        "and %d, 0 = one per core): %s", f"{what}: " if what else "",
        intra_op_threads, inter_op_threads,
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(), e)
    return False
  return True


def pools() -> Tuple[int, int]:
  """(intra-op, inter-op) threads this process asked for; 0: one per core."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return (tf.config.threading.get_intra_op_parallelism_threads(),
          tf.config.threading.get_inter_op_parallelism_threads())
