"""Pure scoring over typed reports: findings, tests, performance, and the task score."""
