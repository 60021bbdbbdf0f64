"""The prepared data of a session: the split (decided once, before any fitting), the out-of-domain
set, the extra ``twitter_samples`` training tweets and the noise-robust training positions."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.config import STUDENT_FAMILIES, PipelineConfig
from core.data.cleaning import clean_text
from core.data.human import load_human_sets, split_select_report, strata
from core.data.label_noise import training_positions
from core.data.loading import file_sha256, load_sentiment140, split_twitter_samples, stratified_sample
from core.data.preprocessing import Preprocessor
from core.data.splitting import Split, add_to_train, split_data
from core.errors import DataError

logger = logging.getLogger(__name__)


@dataclass
class PreparedData:
    """The split (decided once, before any fitting), the out-of-domain set and the human-labelled tweets."""

    split: Split
    ood: pd.DataFrame | None
    data_sha256: str
    n_extra_train: int = 0
    """Training tweets that come from ``twitter_samples`` (see ``data.twitter_samples_train``)."""
    human: pd.DataFrame | None = None
    """Human-labelled tweets (``text``, ``label``, ``set``, ``part``: see :mod:`core.data.human`)."""
    unused: pd.DataFrame | None = None
    """Sentiment140 rows outside the session's sample (``text``, ``key``, ``label``), none equal once
    cleaned to a tweet of any part: a student's extra tweets (only when a student is trained; the
    student never reads ``label``, its targets are the teacher's)."""
    _processed: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    _train_positions: dict[str, np.ndarray] = field(default_factory=dict)

    def parts(self) -> dict[str, pd.DataFrame]:
        """Every evaluated part by name."""
        parts = {"train": self.split.train, "val": self.split.val, "test": self.split.test}
        if self.ood is not None:
            parts["ood"] = self.ood
        if self.human is not None:
            parts["human"] = self.human
        return parts

    def held_out_keys(self) -> set[str]:
        """Cleaned texts that must never be trained on: the out-of-domain and human-labelled tweets."""
        frames = [frame for frame in (self.ood, self.human) if frame is not None]
        return {key for frame in frames for key in frame["text"].map(clean_text)}

    def human_part(self, part: str) -> pd.DataFrame:
        """The human-labelled ``select`` or ``report`` part (its index is the position in ``human``).

        Raises:
            DataError: the session has no human-labelled tweets (``data.human`` is off).
        """
        if self.human is None:
            raise DataError("No human-labelled tweets in this session: set data.human=true or decide on val.")
        return self.human[self.human["part"] == part]

    def processed(self, preprocessor: Preprocessor) -> dict[str, list[str]]:
        """Preprocessed texts of every part for one variant (computed once per variant)."""
        if preprocessor.variant not in self._processed:
            self._processed[preprocessor.variant] = {
                name: preprocessor.transform(frame["text"], progress=name == "train")
                for name, frame in self.parts().items()
            }
        return self._processed[preprocessor.variant]


def prepare_data(config: PipelineConfig) -> PreparedData:
    """Load, subsample and split the tweets; load the out-of-domain set and add the extra
    ``twitter_samples`` training tweets (``data.twitter_samples_train``) outside it; load the
    human-labelled tweets (``data.human``) and keep every tweet equal to one out of training."""
    everything = load_sentiment140(config.data.path)
    human = load_human(config, set(everything["id"].astype(str))) if config.data.human else None
    human_keys = set(human["text"].map(clean_text)) if human is not None else set()
    frame = stratified_sample(everything, config.data.max_rows, config.split.seed)
    split = _without(split_data(frame, config.split), human_keys)
    ood = None
    n_extra = 0
    if config.data.ood or config.data.twitter_samples_train:
        settings = config.data
        ood, extra = split_twitter_samples(
            settings.resolved_nltk_data(), settings.ood_max_rows, settings.twitter_samples_train, config.split.seed
        )
        if len(extra):
            held_out = set(ood["text"].map(clean_text)) | human_keys
            split, n_extra, _, replacing = add_to_train(split, extra, held_out_keys=held_out)
            logger.info(
                "twitter_samples: %d tweets added to train (%d left out: duplicates or held-out texts; %d replacing).",
                n_extra,
                len(extra) - n_extra,
                replacing,
            )
        if not config.data.ood:
            ood = None
    logger.info("Split sizes: %s", split.sizes())
    prepared = PreparedData(split, ood, file_sha256(config.data.path), n_extra_train=n_extra, human=human)
    if wants_unused_rows(config):
        prepared.unused = unused_rows(everything.drop(index=frame.index), prepared)
        logger.info("Sentiment140 rows left unused by the sample, for the student: %d", len(prepared.unused))
    return prepared


def wants_unused_rows(config: PipelineConfig) -> bool:
    """Whether a student of the session adds the unused Sentiment140 rows to its pool."""
    return any(config.models.for_family(f).unused_rows for f in config.families if f in STUDENT_FAMILIES)


def unused_rows(rest: pd.DataFrame, data: PreparedData) -> pd.DataFrame:
    """The rows of ``rest`` (Sentiment140 outside the sample) as ``text``/``key``/``label``, deduplicated
    and without any tweet equal, once cleaned, to one of train, validation, test, OOD or human-labelled."""
    taken = {key for frame in data.parts().values() for key in frame["text"].map(clean_text)}
    frame = pd.DataFrame(
        {
            "text": rest["text"].to_numpy(),
            "key": rest["text"].map(clean_text).to_numpy(),
            "label": rest["label"].to_numpy(),
        }
    )
    frame = frame[(frame["key"] != "") & ~frame["key"].isin(taken)].drop_duplicates("key")
    return frame.reset_index(drop=True)


def load_human(config: PipelineConfig, training_ids: set[str]) -> pd.DataFrame:
    """The human-labelled tweets of ``config.data`` (STS-Gold without ``training_ids``), subsampled
    and split into ``select`` and ``report`` with the fixed ``data.human_seed``."""
    settings = config.data
    frame = load_human_sets(settings.human_dir, training_ids)
    if settings.human_max_rows is not None and settings.human_max_rows < len(frame):
        sample = stratified_sample(frame.assign(label=strata(frame)), settings.human_max_rows, settings.human_seed)
        frame = frame.loc[sample.index].reset_index(drop=True)
    human = split_select_report(frame, settings.human_select_fraction, settings.human_seed)
    logger.info("Human-labelled tweets: %s", human.groupby(["set", "part"]).size().to_dict())
    return human


def _without(split: Split, human_keys: set[str]) -> Split:
    """``split`` whose training part has no tweet equal, once cleaned, to a human-labelled one."""
    clash = split.train["key"].isin(human_keys)
    if clash.any():
        logger.info("Left out of training: %d tweets equal to a human-labelled one once cleaned.", int(clash.sum()))
    return dataclasses.replace(split, train=split.train[~clash].reset_index(drop=True))


def train_subset(labels: pd.Series, max_samples: int | None, seed: int) -> np.ndarray:
    """Positions of a class-stratified, seeded subset of the training split (all when no cap)."""
    frame = pd.DataFrame({"label": labels.to_numpy()})  # a RangeIndex: the index is the position
    return np.sort(stratified_sample(frame, max_samples, seed).index.to_numpy())


def noise_robust_positions(data: PreparedData, config: PipelineConfig) -> np.ndarray:
    """Positions of the training tweets kept by the noise remedies of ``config.noise`` (computed
    once per session and shared by every family, on the cleaned ``none`` texts)."""
    key = repr(config.noise)
    if key not in data._train_positions:
        train = data.split.train
        texts = []
        if config.noise.label_cleanup != "none":
            texts = data.processed(Preprocessor("none", config.data.resolved_nltk_data()))["train"]
        dates = train["date"] if "date" in train.columns else None
        data._train_positions[key] = training_positions(
            config.noise, texts, train["label"].to_numpy(), dates, config.seed
        )
    return data._train_positions[key]
