"""DPG: deterministic policy gradient for continuous actions (DDPG with
D4PG's n-step critic), from uniform sequence replay, with target networks
and Gaussian exploration. `DPGBuilder` has the builder names both
launchers use; `configs/pendulum_dpg.py` trains gymnasium's Pendulum-v1.
"""
