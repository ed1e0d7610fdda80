"""``acctsync demo``: the whole service on Codat's example data, end to end (see
:mod:`demo.flow`). A client of the service, kept out of its package (``app``); the CLI
(``app.cli``) is the one place in the service that reaches it."""

from demo.flow import main, run_demo

__all__ = ["main", "run_demo"]
