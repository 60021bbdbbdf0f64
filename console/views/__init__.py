"""One module per console page (``train``, ``compare``, ``model``, ``monitoring``), each a ``render(store)``
that :mod:`console.routes` runs at the page's URL."""
