"""``python -m gslib.cli``: the ``gslib`` command."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
