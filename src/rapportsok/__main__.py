"""`python -m rapportsok`: the same as the `rapportsok` command."""

from .cli import main

main()
