"""One module per console page: ``train``, ``compare``, ``model``."""
