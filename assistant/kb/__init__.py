"""The knowledge base: Markdown corpus → heading-aware chunks → Chroma (vectors) + BM25 (jieba) → cited answers.

Modules: ``corpus`` (parsing, chunking), ``embeddings`` (one ``Embedder`` interface), ``store`` (Chroma),
``ingest`` (incremental indexing with a manifest), ``bm25``, ``retriever`` (hybrid fusion + LangChain
adapter) and ``answer`` (extractive answers with citations for the offline engine).
"""
