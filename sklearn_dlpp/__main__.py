"""``python -m sklearn_dlpp demo``: the package's main job."""

from __future__ import annotations

import sys

from sklearn_dlpp._demo import main

if __name__ == "__main__":
    sys.exit(main())
