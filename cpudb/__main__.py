from cpudb.cli import main

raise SystemExit(main())
