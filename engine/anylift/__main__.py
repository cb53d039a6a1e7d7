import sys

from anylift.cli import main

sys.exit(main())
