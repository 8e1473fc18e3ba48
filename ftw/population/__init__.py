"""FTW's population training without TensorFlow: Elo, matchmaking, PBT, logs."""
