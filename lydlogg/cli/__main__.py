"""``python -m lydlogg.cli``: the same command line as the ``lydlogg`` script."""

from lydlogg.cli import main

main()
