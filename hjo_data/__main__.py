"""``python -m hjo_data`` entry point (see hjo_data.cli)."""

from __future__ import annotations

import sys

from hjo_data.cli import main

if __name__ == "__main__":
    sys.exit(main())
