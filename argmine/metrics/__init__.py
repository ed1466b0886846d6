"""Evaluation metrics: pure functions over gold and predicted threads."""
