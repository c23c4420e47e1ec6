"""BM25 over jieba words plus character and pinyin bigrams, in memory, built from the indexed chunks.

Words carry the meaning; character bigrams of Chinese runs make the match tolerant of character typos,
of segmentation differences (``提前结清`` vs ``提前 / 结清``) and of colloquial compounds jieba does not
know; pinyin syllable bigrams catch homophone typos from the input method. Bigrams are separate
vocabularies ("\\x02" / "\\x03" prefixes) with lower weights so they refine rather than dominate.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import cache, lru_cache

import numpy as np

from assistant.kb.lexicon import STOPWORDS
from assistant.segmenter import tokenizer as _jieba

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORDLIKE = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)
BIGRAM = "\x02"
PINYIN = "\x03"

def normalise(text: str) -> str:
    """NFKC (full-width → half-width) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def tokenize(text: str) -> list[str]:
    """Search tokens of ``text``: jieba words (search mode) minus stop words, plus CJK character bigrams."""
    text = normalise(text)
    words = [
        w.strip()
        for w in _jieba().lcut_for_search(text)
        if w.strip() and _WORDLIKE.search(w) and w.strip() not in STOPWORDS
    ]
    grams = []
    for run in _CJK.findall(text):
        for i in range(len(run) - 1):
            pair = run[i : i + 2]
            if pair not in STOPWORDS:
                grams.append(BIGRAM + pair)
        # Syllable bigrams catch the commonest Chinese typo, a homophone from the input method
        # (解压 for 解押, 正信 for 征信), which shares no characters with the right word.
        syllables = _pinyin(run)
        for i in range(len(syllables) - 1):
            if run[i : i + 2] not in STOPWORDS:
                grams.append(f"{PINYIN}{syllables[i]} {syllables[i + 1]}")
    return words + grams


def _pinyin(run: str) -> list[str]:
    """Toneless pinyin, one syllable per character (each character's common reading, looked up once).

    Per character rather than per phrase: both the query and the documents go through the same mapping,
    which is all typo matching needs, and it is a dictionary hit instead of phrase analysis.
    """
    return [_char_pinyin(ch) for ch in run]


@cache
def _char_pinyin(ch: str) -> str:
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(ch)
    return syllables[0] if syllables else ch


@lru_cache(maxsize=65_536)
def _passage_tokens(text: str) -> tuple[str, ...]:
    # Indexing the same corpus again in one process (a rebuild, a test's fresh DATA_DIR) reuses tokens.
    return tuple(tokenize(text))


class BM25Index:
    """Okapi BM25 with an inverted index (fast on a few thousand chunks: a handful of numpy adds)."""

    def __init__(
        self,
        texts: Sequence[str],
        *,
        k1: float = 1.2,
        b: float = 0.5,
        bigram_weight: float = 0.5,
        pinyin_weight: float = 0.3,
    ) -> None:
        self.k1 = k1
        self.b = b
        self.bigram_weight = bigram_weight
        self.pinyin_weight = pinyin_weight
        docs = [_passage_tokens(t) for t in texts]
        self.size = len(docs)
        self.doc_len = np.array([len(d) for d in docs], dtype=np.float32)
        avgdl = float(self.doc_len.mean()) if self.size else 1.0
        self._len_norm = self.k1 * (1 - self.b + self.b * self.doc_len / max(avgdl, 1e-9))
        postings: dict[str, list[tuple[int, int]]] = {}
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                postings.setdefault(term, []).append((i, tf))
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.idf: dict[str, float] = {}
        for term, plist in postings.items():
            idx = np.fromiter((p[0] for p in plist), dtype=np.int64, count=len(plist))
            tf = np.fromiter((p[1] for p in plist), dtype=np.float32, count=len(plist))
            self._postings[term] = (idx, tf)
            df = len(plist)
            # Lucene's non-negative idf: a term in most chunks still counts a little, never negatively.
            self.idf[term] = math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def term_weight(self, term: str) -> float:
        """idf × field weight of a token (0 for unknown tokens)."""
        if term.startswith(BIGRAM):
            weight = self.bigram_weight
        elif term.startswith(PINYIN):
            weight = self.pinyin_weight
        else:
            weight = 1.0
        return weight * self.idf.get(term, 0.0)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for ``query`` (zeros when nothing matches)."""
        out = np.zeros(self.size, dtype=np.float32)
        for term in set(tokenize(query)):
            hit = self._postings.get(term)
            if hit is None:
                continue
            idx, tf = hit
            out[idx] += self.term_weight(term) * tf * (self.k1 + 1) / (tf + self._len_norm[idx])
        return out

    def top(self, query: str, n: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The ``n`` best (chunk index, score) with a positive score, optionally within ``mask``."""
        scores = self.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        positive = np.flatnonzero(scores > 0)
        if positive.size == 0:
            return []
        order = positive[np.argsort(-scores[positive], kind="stable")][:n]
        return [(int(i), float(scores[i])) for i in order]
