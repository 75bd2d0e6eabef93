"""``python -m python_env.cli``."""

import sys

from python_env.cli import main

sys.exit(main())
