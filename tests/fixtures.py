"""Generated fixtures: an *easy* Sentiment140-format file whose sentiment words are unambiguous.

Real tweets are too noisy for a one-epoch tiny model to prove it learns; these templates make
"beats chance" a fair, fast check. Dates are spread over April-June for both classes.
"""

from __future__ import annotations

import random
from pathlib import Path

NEGATIVE_WORDS = ["delayed", "lost", "awful", "terrible", "cancelled", "rude", "worst", "hate", "broken", "angry"]
POSITIVE_WORDS = ["great", "lovely", "amazing", "friendly", "perfect", "best", "love", "smooth", "happy", "thanks"]
SUBJECTS = ["my flight", "the crew", "the service", "this airline", "the trip", "my seat", "the food", "boarding"]
FILLERS = ["today", "again", "this morning", "@airparadise", "http://t.co/x1", "#travel", "so far", "honestly"]


def easy_rows(n: int, seed: int = 0) -> list[tuple[int, str]]:
    """``n`` (polarity, text) pairs, half negative (0), half positive (4), all texts distinct."""
    rng = random.Random(seed)
    rows, seen = [], set()
    while len(rows) < n:
        polarity = 0 if len(rows) % 2 == 0 else 4
        words = NEGATIVE_WORDS if polarity == 0 else POSITIVE_WORDS
        text = f"{rng.choice(SUBJECTS)} was {rng.choice(words)} {rng.choice(FILLERS)} {rng.choice(words)} {len(rows)}x"
        if text not in seen:
            seen.add(text)
            rows.append((polarity, text))
    return rows


def write_easy_csv(path: Path, n: int = 400, seed: int = 0) -> Path:
    """Write ``n`` easy tweets in the original Sentiment140 format (quoted, no header)."""
    months = ["Apr", "May", "Jun"]
    lines = []
    for i, (polarity, text) in enumerate(easy_rows(n, seed)):
        month = months[i % 3]
        date = f"Mon {month} {10 + i % 15:02d} 10:{i % 60:02d}:00 PDT 2009"
        lines.append(f'"{polarity}","{1_000_000_000 + i}","{date}","NO_QUERY","user{i}","{text}"\n')
    path.write_text("".join(lines), encoding="latin-1")
    return path
