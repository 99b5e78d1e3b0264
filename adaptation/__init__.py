"""Training the bureau's own retrieval models: the adapted encoder and the cross-encoder re-ranker.

Above ``retrieval`` in the layers because it mines hard negatives with the shipped engine; nothing at
run time imports it (the engine loads the trained folders through ``EMBEDDING_MODEL`` and ``RERANKER``).
"""
