"""One Chinese word segmenter per process (jieba, with the domain words added), loaded once on first use.

Search (``kb.bm25``) and personal-data masking (``privacy``: names by part of speech) read the same
dictionary: loading it costs about two seconds and tens of megabytes, so it is loaded once, lazily,
never at import time. It is a private tokenizer: the domain words do not leak into jieba's global one.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from assistant.kb.lexicon import DOMAIN_TERMS

_lock = threading.Lock()
_tokenizer: Any = None
_tagger: Any = None


def tokenizer() -> Any:
    """The shared ``jieba.Tokenizer`` with the domain vocabulary."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                loaded = jieba.Tokenizer()
                loaded.initialize()
                for term in DOMAIN_TERMS:
                    loaded.add_word(term.lower(), freq=20000)
                _tokenizer = loaded
    return _tokenizer


def pos_tagger() -> Any:
    """A part-of-speech tagger (``jieba.posseg``) over the shared tokenizer."""
    global _tagger
    if _tagger is None:
        base = tokenizer()
        with _lock:
            if _tagger is None:
                import jieba.posseg

                _tagger = jieba.posseg.POSTokenizer(base)
    return _tagger
