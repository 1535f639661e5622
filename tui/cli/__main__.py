"""``python -m tui.cli``: the same as the ``rota`` command."""
import sys

from tui.cli import main

if __name__ == "__main__":
    sys.exit(main())
