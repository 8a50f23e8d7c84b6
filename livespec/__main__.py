"""``python -m livespec``."""

from livespec.cli import main

raise SystemExit(main())
