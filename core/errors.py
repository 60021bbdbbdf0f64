"""Project exceptions: errors a user can cause, each carrying one clear sentence."""


class CoreError(Exception):
    """Base class of every error a user can cause (bad file, bad option, missing model)."""


class DataError(CoreError):
    """The data file is missing, empty or malformed."""


class ConfigError(CoreError):
    """A configuration value is invalid."""


class ResourceError(CoreError):
    """A required local resource (NLTK corpus, model package, checkpoint) is missing."""


class ModelNotFoundError(CoreError):
    """A requested model, version or alias does not exist in the registry."""


class NotServableError(CoreError):
    """A model the deployed API could not load (its image lacks a framework it needs)."""
