"""`python -m rapportsok`: the same as the `rapportsok` command."""

from .serving.cli import main

main()
