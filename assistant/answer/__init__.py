"""Answer: a question becomes retrieved passages, the best sentences and a cited answer."""
