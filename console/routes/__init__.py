"""One file per console URL, run by ``st.navigation`` (see :mod:`console.shell`): each draws one view
of :mod:`console.views` on the store the frame connected. Not imported as modules."""
