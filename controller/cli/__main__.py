"""`python -m controller.cli`: the `microweld` command line."""

import sys

from controller.cli.main import main

sys.exit(main())
