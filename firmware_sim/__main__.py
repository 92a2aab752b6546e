"""Allow `python -m firmware_sim`."""

import sys

from firmware_sim.cli import main

sys.exit(main())
