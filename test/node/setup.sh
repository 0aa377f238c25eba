#!/usr/bin/env bash
# Installs what the one-node cluster needs from Debian's packages (as root):
# containerd and runc, the CNI bridge/host-local/portmap plugins, and a static
# busybox for the workload and sandbox images. A no-op when all are present.
set -euo pipefail
need=()
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v iptables >/dev/null || need+=(iptables)
if [ "${#need[@]}" -eq 0 ]; then
  echo "node setup: everything installed"
  exit 0
fi
echo "node setup: installing ${need[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
