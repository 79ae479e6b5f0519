"""``python -m incidentflow``: the same as the ``incidentflow`` command."""

from incidentflow.cli import main

main()
