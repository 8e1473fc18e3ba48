"""Recurrent cores of the FTW agent (Jaderberg et al. 2019, Figure S11).

One import path for the cores and their state/output namedtuples:
  - `VariationalUnit`, `PeriodicVariationalUnit`, `PeriodicRNNState`
    (ftw.tf.networks.variational),
  - `RPTH`, `RPTHInput`, `RPTHState`, `RPTHOutput` (ftw.tf.networks.rpth),
  - `RPTHZWrapper` (ftw.tf.networks.rpth_z_wrapper), an RPTH that outputs z,
  - `DNCWrapper`, `DNCState` (ftw.tf.networks.dnc_wrapper),
  - `LocScaleDistributionParameters` (ftw.tf.networks.distributional).
"""

from ftw.tf.networks.distributional import LocScaleDistributionParameters
from ftw.tf.networks.dnc_wrapper import DNCState
from ftw.tf.networks.dnc_wrapper import DNCWrapper
from ftw.tf.networks.rpth import RPTH
from ftw.tf.networks.rpth import RPTHInput
from ftw.tf.networks.rpth import RPTHOutput
from ftw.tf.networks.rpth import RPTHState
from ftw.tf.networks.rpth_z_wrapper import RPTHZWrapper
from ftw.tf.networks.variational import PeriodicRNNState
from ftw.tf.networks.variational import PeriodicVariationalUnit
from ftw.tf.networks.variational import VariationalUnit

__all__ = (
    'DNCState',
    'DNCWrapper',
    'LocScaleDistributionParameters',
    'PeriodicRNNState',
    'PeriodicVariationalUnit',
    'RPTH',
    'RPTHInput',
    'RPTHOutput',
    'RPTHState',
    'RPTHZWrapper',
    'VariationalUnit',
)
