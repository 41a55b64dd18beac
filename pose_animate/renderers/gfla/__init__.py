"""GFLA: pose-guided person image animation with global flow and local attention (one model
for a dataset of people)."""
