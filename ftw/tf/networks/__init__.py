"""Sonnet 2 modules and RNN cores of the FTW agent."""
