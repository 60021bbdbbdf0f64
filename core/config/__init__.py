"""Configuration in one typed place: paths, the pipeline's and the families' dataclasses, named
profiles and ``--set`` overrides.

Owns every training setting (the serving side's monitoring settings live in
:mod:`core.monitoring.settings`, the API's in ``api/settings.py``). Imports only
:mod:`core.errors`. The names below are re-exported so callers write ``from core.config import X``.
"""

from core.config.families import (
    ALL_FAMILIES,
    FAMILY_MODELS,
    PREPROCESSING_VARIANTS,
    BertConfig,
    KerasEmbeddingConfig,
    LstmConfig,
    ModelsConfig,
    NeuralConfig,
    TfidfConfig,
    UseConfig,
)
from core.config.overrides import apply_override, apply_overrides
from core.config.paths import (
    DEFAULT_CACHE_DIR,
    DEFAULT_DATA_PATH,
    DEFAULT_EVENT_DB,
    DEFAULT_HUMAN_DIR,
    DEFAULT_NLTK_DATA,
    DEFAULT_REPORTS_DIR,
    DEFAULT_STORE_DIR,
    PROJECT_ROOT,
    SHARED_DIR,
)
from core.config.pipeline import (
    CALIBRATION_METHODS,
    DECISION_PARTS,
    LABEL_CLEANUP_METHODS,
    METRICS,
    SPLIT_STRATEGIES,
    THRESHOLD_RULES,
    CalibrationConfig,
    DataConfig,
    EnsembleConfig,
    EvaluationConfig,
    NoiseConfig,
    Param,
    PipelineConfig,
    SplitConfig,
    TrackingConfig,
    TuningConfig,
    flatten,
)
from core.config.profiles import PROFILES, get_profile

__all__ = [
    "ALL_FAMILIES",
    "CALIBRATION_METHODS",
    "DECISION_PARTS",
    "DEFAULT_CACHE_DIR",
    "DEFAULT_DATA_PATH",
    "DEFAULT_EVENT_DB",
    "DEFAULT_HUMAN_DIR",
    "DEFAULT_NLTK_DATA",
    "DEFAULT_REPORTS_DIR",
    "DEFAULT_STORE_DIR",
    "FAMILY_MODELS",
    "LABEL_CLEANUP_METHODS",
    "METRICS",
    "PREPROCESSING_VARIANTS",
    "PROFILES",
    "PROJECT_ROOT",
    "SHARED_DIR",
    "SPLIT_STRATEGIES",
    "THRESHOLD_RULES",
    "BertConfig",
    "CalibrationConfig",
    "DataConfig",
    "EnsembleConfig",
    "EvaluationConfig",
    "KerasEmbeddingConfig",
    "LstmConfig",
    "ModelsConfig",
    "NeuralConfig",
    "NoiseConfig",
    "Param",
    "PipelineConfig",
    "SplitConfig",
    "TfidfConfig",
    "TrackingConfig",
    "TuningConfig",
    "UseConfig",
    "apply_override",
    "apply_overrides",
    "flatten",
    "get_profile",
]
