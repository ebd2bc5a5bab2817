import sys

from connectors.sandbox.cli import main

sys.exit(main())
