"""`python -m actnet.util` is the `actnet` command."""

import sys

from actnet.util.cli import main

sys.exit(main())
