"""`python -m evalscope.testing --config '{...}' --port 0`: the scripted server on its own."""

import sys

from evalscope.testing.launch import main

sys.exit(main())
