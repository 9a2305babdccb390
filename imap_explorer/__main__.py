"""``python -m imap_explorer`` runs the command line."""

from imap_explorer.cli import main

raise SystemExit(main())
