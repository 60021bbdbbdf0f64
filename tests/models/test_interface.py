"""Every registered family honours the shared parts of the interface."""

from __future__ import annotations

import pytest

from core.config import ModelsConfig
from core.models import FAMILIES, get_family


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_unfitted_model_refuses_to_predict(family: str) -> None:
    model = get_family(family)(ModelsConfig().for_family(family), seed=0)
    assert model.family == family and not model.is_fitted()
    with pytest.raises(RuntimeError, match=f"{type(model).__name__}.predict_proba called before fit or load"):
        model.predict_proba(["a tweet"])
