import sys

from ragstage.cli import main

sys.exit(main())
