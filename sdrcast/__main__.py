from sdrcast.cli import main

raise SystemExit(main())
