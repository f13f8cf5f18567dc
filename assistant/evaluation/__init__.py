"""Evaluation: question sets, per-question and overall metrics, the HTML report."""
