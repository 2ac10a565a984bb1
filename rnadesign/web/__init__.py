"""``rnadesign serve``: a web page for designing, on the same designer as the command line.

Optional: its packages come with the ``web`` extra (``pip install -e ".[web]"`` in a checkout). This
package's ``__init__`` and :mod:`~rnadesign.web.command` need the standard library only, so the command
line can offer ``serve`` (and say what is missing) without them; :mod:`~rnadesign.web.app` is the ASGI
app, :mod:`~rnadesign.web.jobs` the SQLite store and the worker processes, :mod:`~rnadesign.web.forms`
the request checks, and :mod:`~rnadesign.web.core` the one module through which all of them use the
rest of rnadesign.
"""
