"""Capture the Flag by self-play: the full FTW agent, 2 vs 2.

- Game: Melting Pot's `paintball__capture_the_flag` (`ftw/envs/ctf.py`),
  4 players per arena as in the FTW paper's 2 vs 2 games, 1,000 frames per
  episode; 8 arenas per actor = 32 player slots, every slot played by the
  learning policy (one batched network call per step) and written to replay
  as its own sequence.
- What the agent sees: its 88x88 RGB view centre-cropped to 84x84x3, its
  previous action and its previous game-event vector. Actions are
  multi-discrete: move (5) x turn (3) x fire (3), one softmax per group.
- What it learns from: FTW's internal reward r = w . events over the 13 game
  events of `ftw/envs/ctf_events.py`, with the weights below (in the
  embedding and in the losses); the game's own reward (captures by my team
  minus captures by the other) is what the logs call the return.
- The network, losses and learning-signal choices of `configs/atari_ftw.py`:
  FtwTorso, RPTH with a 64x32 DNC memory, pixel control, reward prediction,
  the RPTH KL terms, V-trace (lambda 0.95), standardised pixels and
  returns, Adam, gradients clipped to 0.5; three changes for this game,
  each measured here, follow.
- Pixel control weighs 1e-4 instead of the FTW agent's 0.01: on egocentric
  RGB every move changes most pixels, and the term (summed over 19 steps and
  400 cells) was 99% of the loss at 0.01 in the first 13 minutes of a run
  here (pixel_control_loss 15-130 against policy terms below 1), so the
  clipped update was pixel control's. 1e-4 brings it to the RL terms' scale.
- Advantages are NOT standardised per batch (Pong's default does): game
  events are rare, most 20-step sequences hold none, and a batch's
  advantages are then value noise (advantage_std ~3e-4 in a run here);
  standardising scaled that noise to unit size, and the policy's entropy
  fell from 3.8 (uniform) to 0.3 within 115 learner steps, then wandered.
  Unscaled, an entropy cost of 0.01 held the policy exactly uniform
  (entropy 3.80 of 3.81 for 1,300 learner steps, 18 minutes): a random
  team scores an event every ~1,000 player steps, and the policy gradient
  of those few steps lost to the entropy bonus. Hence 1e-3 (inside the
  range the FTW paper's PBT samples the entropy cost from, 5e-4 to 1e-2);
  in a 60-minute run here the entropy still stayed at 3.77-3.80 and every
  evaluation game ended 0-0: this config plays and trains, it does not yet
  learn CTF in an hour on 2 cores.
- Evaluation every 5 minutes, 4 episodes against uniformly random players
  and 4 against the weights of the previous evaluation
  (`agents/ftw/team_evaluator.py`): win rate, scores and events per player.

The internal reward weights: the FTW paper evolves them with PBT from a
random start and reports only where they ended; these are our hand-set
starting values, dense enough that a random policy's pickups and tags are
rewarded and with the capture (the game's point) worth the most. PBT
(issue #10) is what should tune them.
"""

from agents.ftw.config import FtwConfig
from configs import atari_ftw
from ftw.envs import ctf_events

INTERNAL_REWARD_WEIGHTS = {
    "flag_pickup": 0.5,
    "flag_capture": 1.0,
    "flag_return": 0.3,
    "tag_opponent": 0.1,
    "tag_flag_carrier": 0.3,
    "tagged": -0.05,
    "tagged_with_flag": -0.3,
    "team_capture": 1.0,
    "opponent_capture": -1.0,
    "teammate_pickup": 0.1,
    "teammate_return": 0.05,
    "opponent_pickup": -0.2,
    "opponent_return": -0.05,
}


def internal_reward_weights():
  """The weights in `ctf_events.EVENT_NAMES` order."""
  missing = set(ctf_events.EVENT_NAMES) ^ set(INTERNAL_REWARD_WEIGHTS)
  if missing:
    raise ValueError(f"INTERNAL_REWARD_WEIGHTS must name every event of "
                     f"ctf_events.EVENT_NAMES exactly; differs in {missing}")
  return tuple(INTERNAL_REWARD_WEIGHTS[n] for n in ctf_events.EVENT_NAMES)


def get_config() -> FtwConfig:
  return atari_ftw.get_config().replace(
      environment="ctf",
      environment_kwargs={"num_players": 4, "action_mode": "multi_discrete",
                          "episode_length": 1000},
      num_envs=8,
      env_threads=0,  # atari_ftw's games step in ale-py; arenas do not.
      internal_reward_weights=internal_reward_weights(),
      pixel_control_cost=1e-4,
      normalize_advantages=False,
      entropy_cost=1e-3,
      eval_every_seconds=300.0,
      eval_episodes=4,
      # What CTF was measured with; atari_ftw's were retuned for Pong (#13).
      batch_size=16,
      queue_size=32,
      learning_rate=2e-4,
      max_learner_steps=8000,
  )
