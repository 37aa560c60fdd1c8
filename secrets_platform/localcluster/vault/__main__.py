"""``python -m secrets_platform.localcluster.vault`` (see :mod:`secrets_platform.localcluster.vault.cli`)."""

import sys

from secrets_platform.localcluster.vault.cli import main

if __name__ == "__main__":
    sys.exit(main())
