"""`python -m gui`: the operator station."""

import sys

from gui.app import main

sys.exit(main())
