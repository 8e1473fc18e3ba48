"""Counting, logging, checkpointing and other plumbing shared by agents."""
