"""Index: articles become passages, vectors (Chroma) and BM25, kept in line with ``corpus/``."""
