from tradescan.cli import main

raise SystemExit(main())
