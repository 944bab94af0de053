"""Text normalisation, content hashes, MinHash/LSH bands and the near-duplicate verifier.

Pure functions (no database access); :mod:`storage.archive` stores the results.

* :func:`normalize_text` — the exact-duplicate key text: pinyin glosses removed
  (:func:`common.text.strip_glosses`, then :data:`TONED_GLOSS_RE`, see below), NFKC, OpenCC t2s
  (:func:`common.text.to_simplified`), lower-cased, whitespace and punctuation removed.
* :func:`content_hash` — sha256 of the normalised text (exact duplicates).
* :func:`signature` -> :class:`TextSignature` — 5-character shingles, a 128-permutation MinHash
  (datasketch) and 32 LSH band keys of 4 rows each, as signed 64-bit integers for the
  ``minhash_bands`` table.
* :func:`copy_quality` — ranks copies of one story for the article's representative copy.
* :func:`verify` — decides whether a candidate found through the bands is really the same story:
  containment of the smaller shingle set in the larger one >= ``CONTAINMENT_MIN`` **and** set-size
  ratio >= ``SIZE_RATIO_MIN``. Two different articles that share a title, boilerplate or a long
  quoted paragraph each keep enough text of their own to fail the containment test.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

from common.text import strip_glosses as _strip_glosses
from common.text import to_simplified as _to_simplified

SHINGLE = 5
NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS  # 4
SEED = 1
SCHEME = "affine32"  # datasketch >= 2 names its hashing scheme; fixed so stored bands stay valid
MIN_SHINGLES = 8  # texts shorter than this get an exact hash only (no LSH bands)
CONTAINMENT_MIN = 0.90
SIZE_RATIO_MIN = 0.50
MAX_CANDIDATES = 20

#: Hash-key step on top of :func:`common.text.strip_glosses`: any parenthesised latin run with a
#: tone mark (optionally after a broken-character ``?``) is dropped, also the real glosses that
#: ``strip_glosses`` keeps on purpose in displayed text (``亳(bó)州``). Stored ``content_hash`` values
#: were computed with it, so it stays: with it, :func:`normalize_text` gives the same key as before the
#: layer refactor on every text already cleaned by extraction (measured on the 17 demo bodies and the
#: 287-page corpus, both its truth bodies and the extracted ones; ``tests/test_dedup.py::
#: test_content_hash_unchanged``). Only a raw, uncleaned broken gloss (``日?qǐng)?bào)``) now keys
#: as the restored character (``日報`` -> ``日报``), as extraction itself would clean it.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
TONED_GLOSS_RE = re.compile(
    r"[?？]?[（(]?[a-zü" + _TONED + r"]*[" + _TONED + r"][a-zü" + _TONED + r"]*[)）]"
)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def to_simplified(text: str) -> str:
    """OpenCC t2s (:func:`common.text.to_simplified`); "" for empty input."""
    return _to_simplified(text) if text else ""


def strip_glosses(text: str) -> str:
    """Glosses removed as for the hash key: :func:`common.text.strip_glosses`, then
    :data:`TONED_GLOSS_RE`."""
    return TONED_GLOSS_RE.sub("", _strip_glosses(text)[0]) if text else ""


def normalize_text(text: str) -> str:
    """Simplified, gloss-free, lower-case text with no whitespace or punctuation."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", strip_glosses(text))
    text = to_simplified(text)
    return _NON_WORD.sub("", text.lower())


def content_hash(text: str) -> str:
    """sha256 hex digest of :func:`normalize_text` (the exact-duplicate key)."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def shingles(norm: str, k: int = SHINGLE) -> set[str]:
    if len(norm) <= k:
        return {norm} if norm else set()
    return {norm[i : i + k] for i in range(len(norm) - k + 1)}


_PERMUTATIONS = None


def _permutations():
    global _PERMUTATIONS
    if _PERMUTATIONS is None:
        _PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations
    return _PERMUTATIONS


def minhash(sh: set[str]) -> MinHash:
    m = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_permutations(),
                scheme=SCHEME)
    if sh:
        m.update_batch([s.encode("utf-8") for s in sh])
    return m


def band_keys(hashvalues: np.ndarray) -> list[tuple[int, int]]:
    """``[(band_idx, band_hash)]`` for the 32 bands of a MinHash signature (signed 64-bit)."""
    hv = np.asarray(hashvalues, dtype=np.uint64)
    out = []
    for b in range(BANDS):
        chunk = hv[b * ROWS : (b + 1) * ROWS].tobytes()
        h = hashlib.blake2b(chunk, digest_size=8, person=b"govnews" + bytes([b])).digest()
        out.append((b, int.from_bytes(h, "big", signed=True)))
    return out


@dataclass
class TextSignature:
    normalized: str
    content_hash: str
    shingles: set[str]
    bands: list[tuple[int, int]]  # empty when the text is too short for LSH


def signature(text: str) -> TextSignature:
    norm = normalize_text(text)
    digest = hashlib.sha256(norm.encode("utf-8")).hexdigest()
    sh = shingles(norm)
    bands = band_keys(minhash(sh).hashvalues) if len(sh) >= MIN_SHINGLES else []
    return TextSignature(norm, digest, sh, bands)


@dataclass
class Similarity:
    jaccard: float
    containment: float
    size_ratio: float

    @property
    def same_story(self) -> bool:
        return self.containment >= CONTAINMENT_MIN and self.size_ratio >= SIZE_RATIO_MIN


def similarity(a: set[str], b: set[str]) -> Similarity:
    if not a or not b:
        return Similarity(0.0, 0.0, 0.0)
    inter = len(a & b)
    small, large = sorted((len(a), len(b)))
    return Similarity(
        jaccard=inter / (len(a) + len(b) - inter),
        containment=inter / small,
        size_ratio=small / large,
    )


def verify(a: set[str], b: set[str]) -> Similarity | None:
    """The similarity if ``a`` and ``b`` are the same story, else ``None``."""
    s = similarity(a, b)
    return s if s.same_story else None


def same_story(text_a: str, text_b: str) -> bool:
    """Convenience for tests and audits: the full pipeline decision on two raw texts."""
    sa, sb = signature(text_a), signature(text_b)
    if sa.content_hash == sb.content_hash:
        return True
    return verify(sa.shingles, sb.shingles) is not None


# ---------------------------------------------------------------------------- representative copy
TRADITIONAL_MAX = 0.005  # share of characters OpenCC t2s changes that still counts as simplified


def _changed_chars(text: str, simplified: str | None = None) -> int:
    if not text:
        return 0
    simplified = to_simplified(text) if simplified is None else simplified
    if len(simplified) != len(text):  # a phrase conversion changed the length: count it all
        return sum(a != b for a, b in zip(text, simplified)) + abs(len(text) - len(simplified))
    return sum(a != b for a, b in zip(text, simplified))


def is_simplified(text: str | None, simplified: str | None = None) -> bool:
    """``text`` is (practically) equal to its own OpenCC t2s conversion."""
    if not text:
        return True
    return _changed_chars(text, simplified or None) <= max(1, int(len(text) * TRADITIONAL_MAX))


def copy_quality(title: str | None, body: str | None, body_simplified: str | None,
                 flags: dict | None) -> tuple[int, int, int]:
    """How good a copy of a story is as the article's representative; higher is better.

    ``(not spam-flagged, title and body in simplified script, -pinyin glosses removed)``, compared
    as a tuple: an SEO-spam mirror's title loses to any clean one; then a traditional-character
    mirror loses to the simplified original; then the copy that needed fewer glosses stripped wins.
    Equal quality never switches the representative (the first copy stays).
    """
    flags = flags or {}
    spam = bool(flags.get("spam_title"))
    simplified = is_simplified(title) and is_simplified(body, body_simplified)
    try:
        glosses = int(flags.get("glosses_removed") or 0)
    except (TypeError, ValueError):
        glosses = 0
    return (0 if spam else 1, 1 if simplified else 0, -glosses)
