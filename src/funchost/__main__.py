"""``python -m funchost`` runs the CLI."""

from funchost.host.startup import main

raise SystemExit(main())
