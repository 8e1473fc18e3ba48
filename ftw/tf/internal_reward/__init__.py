"""Learned internal rewards of the FTW agent."""
