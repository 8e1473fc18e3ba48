"""Reverb replay for the FTW agent: adders, tables and datasets.

Actors write with `SequenceAdder` (one environment) or `BatchedSequenceAdder`
(a vectorised environment); the server holds `make_sequence_queue` and
`make_reward_prediction_tables`; the learner reads `make_sequence_dataset` and
`make_reward_prediction_dataset` (through a `ResumingIterator`, so a quiet
queue never hangs a learner that was asked to stop).
"""

from ftw.replay.base import Adder
from ftw.replay.base import CORE_STATE_KEY
from ftw.replay.base import RewardPredictionItem
from ftw.replay.base import RP_NONZERO_TABLE
from ftw.replay.base import RP_ZERO_TABLE
from ftw.replay.base import SEQUENCE_TABLE
from ftw.replay.base import ServerUnavailableError
from ftw.replay.base import Step
from ftw.replay.timed_writer import TimedWriter
from ftw.replay.batched_adder import BatchedSequenceAdder
from ftw.replay.datasets import make_reward_prediction_dataset
from ftw.replay.datasets import make_sequence_dataset
from ftw.replay.resuming import ResumingIterator
from ftw.replay.sequence_adder import SequenceAdder
from ftw.replay.vector_adder import VectorSequenceAdder
from ftw.replay.tables import make_reward_prediction_tables
from ftw.replay.tables import make_sequence_queue
from ftw.replay.tables import make_sequence_replay
from ftw.replay.tables import make_step_spec
from ftw.replay.tables import reward_prediction_signature
from ftw.replay.tables import sequence_signature
from ftw.replay.tables import validate_queue_size
