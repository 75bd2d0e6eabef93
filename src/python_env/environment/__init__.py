"""The OpenEnv environment: wire models, the episode, the task runner, the reward."""
