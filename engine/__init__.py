"""reviewflow's workflow engine: BPMN on SpiffWorkflow, persisted with SQLAlchemy.

Nothing in this package imports Flask: the web app and the command line call
:mod:`engine.services`, which is the boundary tests drive too.
"""

__version__ = "0.4.0.dev0"  # the one place the version is written (pyproject.toml reads it)
