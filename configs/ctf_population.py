"""A population of FTW agents playing Capture the Flag: `launch.population`.

    python -m launch.population --config=configs/ctf_population.py \
        --population=4 --num_actors=1 --max_seconds=3600

- Each agent is `configs/ctf.py`'s full FTW agent (FtwTorso, RPTH with a
  DNC memory, pixel control, reward prediction, internal rewards over the
  13 game events), with its own network, optimiser, Reverb tables and
  learner process. Matches are 2 vs 2 in 8 arenas per actor; every slot
  is played by the agent the matchmaking put there.
- `get_population_config()`: FTW's rules (`ftw/population/`): team Elo
  (team rating = sum of its members', P(A beats B) = 1 / (1 + 10^((R_B -
  R_A) / 400)), K = 32 per match), teammates and opponents picked around
  even odds (Gaussian in win probability, sigma 1/6), and PBT: every
  `pbt_interval` learner steps an agent that has trained `pbt_ready` steps
  since its last copy compares itself with a random other agent and, if its
  Elo win probability against it is below 70%, copies that agent's weights,
  optimiser state, hyperparameters and internal reward weights, then
  multiplies each of them by 0.8 or 1.2.
- Evolved: learning rate, entropy cost, the two RPTH KL costs, RPTH's
  slow-core period and the 13 internal reward weights. Agent 0 starts at
  `configs/ctf.py`'s values, the others at those times a log-uniform
  factor in [1/2, 2] each.
- The intervals are sized for this 2-core machine, where 4 full agents
  share the cores (~0.3-0.5 learner steps/s each): a PBT check every 100
  learner steps once an agent has 200 since its last copy. FTW's own
  agents trained for 2 billion frames; the paper's PBT ran on a cadence of
  millions of steps. Raise both with the machine.
"""

from agents.ftw.config import FtwConfig
from configs import ctf
from ftw.population.config import PopulationConfig


def get_config() -> FtwConfig:
  return ctf.get_config().replace(
      eval_every_seconds=3600.0,  # The controller's Elo is the evaluation.
      checkpoint_every_seconds=300.0,
      # Each agent's learner process: one TensorFlow thread, as 4 agents
      # share this machine's 2 cores. Raise both on a machine with cores
      # to spare per agent.
      intra_op_threads=1,
      inter_op_threads=1,
  )


def get_population_config() -> PopulationConfig:
  return PopulationConfig(
      population_size=4,
      pbt_interval=100,
      pbt_ready=200,
      pbt_min_matches=5,
      evolve=("learning_rate", "entropy_cost", "kl_cost", "kl_prior_cost",
              "rpth_period"),
  )
