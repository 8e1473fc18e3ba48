"""Reinforcement-learning losses: pure functions on time-major tensors."""
