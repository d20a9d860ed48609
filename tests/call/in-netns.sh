#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs the command given in a private network namespace whose only interface is loopback, up,
# so a test may take the network down and up again without touching the machine's own.
# Exit 77 (skipped) where the namespace cannot be made: no unshare or ip, or not permitted.

PATH="$PATH:/usr/sbin:/sbin"
if ! command -v unshare >/dev/null 2>&1; then
  echo "SKIP: unshare (util-linux) is not installed"
  exit 77
fi
if ! command -v ip >/dev/null 2>&1; then
  echo "SKIP: ip (iproute2) is not installed"
  exit 77
fi
# As root a plain network namespace is enough; elsewhere a user namespace may grant one.
for flags in -n -rn; do
  if unshare $flags sh -c 'ip link set lo up' >/dev/null 2>&1; then
    WZ_HOST_NETNS=$(readlink /proc/self/ns/net) exec unshare $flags sh -c 'ip link set lo up && exec "$@"' sh "$@"
  fi
done
echo "SKIP: this machine does not permit a private network namespace (unshare -n / -rn failed)"
exit 77
