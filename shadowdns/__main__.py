import sys

from shadowdns.cli import main

sys.exit(main())
