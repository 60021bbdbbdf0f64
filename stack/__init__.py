"""Runs the whole product on loopback: the README's main command (``python -m stack``).

1. ``python -m core up`` in a child process (its memory is given back before serving): train the
   chosen profile if no champion exists, then print the comparison table.
2. The prediction API under gunicorn, waiting until ``/ready`` answers 200.
3. The client app under gunicorn, pointed at the API.
Then it prints the URLs and runs until Ctrl-C (or SIGTERM), which stops both servers.

It starts the API and the client as separate processes by their WSGI entry points and imports
neither (``tests/test_architecture.py``).
"""
