"""Text encoders behind one protocol, an embedding cache, and the FAISS vector index."""
