"""reviewflow's workflow engine: BPMN on SpiffWorkflow, persisted with SQLAlchemy.

Nothing in this package imports Flask: the web app and the command line call
:mod:`engine.services`, which is the boundary tests drive too.
"""
