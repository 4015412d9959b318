"""``python -m funchost`` runs the CLI."""

from funchost.host.cli import main

raise SystemExit(main())
