"""Environments with the dm_env API: Catch, Atari through gymnasium, wrappers."""
