"""``python -m geo_service.cli ARGS`` is ``geo-service ARGS``."""

from geo_service.cli import main

raise SystemExit(main())
