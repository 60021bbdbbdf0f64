"""One seeding function for Python, NumPy, TensorFlow and PyTorch."""

from __future__ import annotations

import os
import random
import sys

import numpy as np


def set_seeds(seed: int) -> None:
    """Seed Python, NumPy and, when already imported, TensorFlow/Keras and PyTorch.

    Frameworks are seeded only if a model family imported them, so seeding never pulls
    TensorFlow or torch into a process that does not need them.
    """
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)
    elif "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
