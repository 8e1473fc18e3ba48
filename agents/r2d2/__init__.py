"""R2D2: recurrent Q-learning from prioritised sequence replay.

Kapturowski et al. 2019 on ftw's pieces: a recurrent Q-network (FtwTorso +
OAR embedding + LSTM or RPTH + dueling head, `networks.py`), actors that
explore with Ape-X's per-row epsilons or a schedule (`ftw.tf.resolvers`),
sequences with the actor's recurrent state in a prioritised Reverb table
sampled `samples_per_insert` times each (`replay.py`), burn-in, n-step double
Q-learning or SARSA with value rescaling (`losses.py`), priorities written
back after every update and a target network (`ftw.tf.target_networks`).
`R2D2Builder` has the builder names both launchers use.
"""
