"""The FTW agent: config, builder, actor and learner."""
