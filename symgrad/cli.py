"""The `symgrad` command line (placeholder; being written)."""

import sys


def main(argv=None):
    print("symgrad: the command line is being written", file=sys.stderr)
    return 2
