"""`python -m ata_jax.cli`: the same as the `ata-jax` command."""

import sys

from ata_jax.cli import main

sys.exit(main())
