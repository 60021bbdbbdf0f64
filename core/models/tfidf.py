"""Bag-of-words baseline: word + character TF-IDF features (+ optional lexicon features), logistic regression."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from core.config import TfidfConfig
from core.data.preprocessing import tokenize
from core.models.base import SentimentModel
from core.models.lexicon import LexiconFeatures

_FILE = "tfidf_logreg.joblib"


class TfidfModel(SentimentModel):
    """TF-IDF (word 1..n-grams and optional char n-grams) + logistic regression."""

    family = "tfidf"
    requirements = ("scikit-learn", "joblib")

    def __init__(self, config: TfidfConfig | None = None, seed: int = 42, cache_dir: Path | None = None) -> None:
        super().__init__(config or TfidfConfig(), seed, cache_dir)
        self.pipeline: Pipeline | None = None
        if getattr(self.config, "lexicon_features", False):  # configs pickled before the option lack it
            self.requirements = (*self.requirements, "vaderSentiment")

    def _build(self) -> Pipeline:
        cfg = self.config
        features = [
            (
                "word",
                TfidfVectorizer(
                    tokenizer=tokenize,
                    token_pattern=None,
                    lowercase=False,
                    ngram_range=(1, cfg.word_ngram_max),
                    min_df=cfg.min_df,
                    max_features=cfg.max_features,
                    sublinear_tf=True,
                ),
            )
        ]
        if cfg.use_char_ngrams:
            features.append(
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=(cfg.char_ngram_min, cfg.char_ngram_max),
                        min_df=cfg.min_df,
                        max_features=cfg.max_features,
                        sublinear_tf=True,
                    ),
                )
            )
        if cfg.lexicon_features:
            features.append(("lexicon", LexiconFeatures(weight=cfg.lexicon_weight)))
        classifier = LogisticRegression(C=cfg.C, max_iter=cfg.max_iter, solver="liblinear", random_state=self.seed)
        return Pipeline([("features", FeatureUnion(features)), ("logreg", classifier)])

    def fit(self, train_texts, train_labels, val_texts, val_labels) -> dict[str, float]:
        """Fit the vectorizers and the regression on train only (validation is unused)."""
        self.pipeline = self._build()
        self.pipeline.fit(list(train_texts), np.asarray(train_labels))
        n_features = sum(
            len(v.get_feature_names_out()) for _, v in self.pipeline.named_steps["features"].transformer_list
        )
        return {"n_features": float(n_features)}

    def is_fitted(self) -> bool:
        """Whether the pipeline was fitted or loaded."""
        return self.pipeline is not None

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        proba = self.pipeline.predict_proba(texts)
        negative_column = list(self.pipeline.classes_).index(1)
        return proba[:, negative_column].astype(np.float64)

    def vocabulary(self) -> set[str]:
        """Every word n-gram the model knows (used to prove it saw train only)."""
        return set(self.pipeline.named_steps["features"].transformer_list[0][1].vocabulary_)

    def save(self, folder: Path) -> None:
        """Write the fitted pipeline with joblib."""
        joblib.dump({"config": self.config, "seed": self.seed, "pipeline": self.pipeline}, Path(folder) / _FILE)

    @classmethod
    def load(cls, folder: Path) -> TfidfModel:
        """Read a pipeline written by :meth:`save`."""
        state = joblib.load(Path(folder) / _FILE)
        model = cls(state["config"], state["seed"])
        model.pipeline = state["pipeline"]
        return model
