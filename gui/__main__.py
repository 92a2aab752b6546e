"""`python -m gui`: the operator station."""

import sys

from gui.main import main

sys.exit(main())
