#!/usr/bin/env bash
# The checkouts role over a fleet of 20 local hosts and 3 hosts reached over real SSH; see fleet.py.
set -euo pipefail
exec python fleet.py "$@"
