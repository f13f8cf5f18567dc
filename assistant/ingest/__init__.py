"""Ingest: raw text, Markdown, HTML and URLs become cleaned articles in ``corpus/``."""
