"""Retrieval: jieba BM25, dense FAISS search, hybrid fusion and the answer-or-abstain decision."""
