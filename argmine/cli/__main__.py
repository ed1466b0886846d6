"""``python -m argmine.cli``: what torchrun / accelerate launch start on every rank."""

import sys

from argmine.cli import main

sys.exit(main())
