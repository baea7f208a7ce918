#!/bin/sh
# The classic notify_master script for a DigitalOcean Reserved IP (what issue 5's users run):
# if the Reserved IP is not active on this droplet, ask the API to assign it, up to 10 times,
# 3 s apart. halb runs it unchanged as notify_master; the native `floating_ip:` form replaces it.
# DO_API and DO_METADATA default to the real endpoints; tests point them at a fake.
# Needs: curl. Token: $DO_TOKEN (or the first line of /etc/keepalived/do-token).
set -u
DO_API=${DO_API:-https://api.digitalocean.com}
DO_METADATA=${DO_METADATA:-http://169.254.169.254}
IP=${RESERVED_IP:-203.0.113.10}
TOKEN=${DO_TOKEN:-$(head -n1 /etc/keepalived/do-token 2>/dev/null)}

ID=$(curl -fsS -m 5 "$DO_METADATA/metadata/v1/id") || { echo "no droplet id from metadata" >&2; exit 1; }

n=0
while [ $n -lt 10 ]; do
  n=$((n + 1))
  # The Reserved IP's droplet, from the API (a "droplet":{"id":N,...} object or null).
  holder=$(curl -fsS -m 5 -H "Authorization: Bearer $TOKEN" "$DO_API/v2/reserved_ips/$IP" |
    sed -n 's/.*"droplet":{"id":\([0-9]*\).*/\1/p')
  if [ "$holder" = "$ID" ]; then
    echo "reserved IP $IP is on droplet $ID"
    exit 0
  fi
  curl -fsS -m 5 -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"type\":\"assign\",\"droplet_id\":$ID}" "$DO_API/v2/reserved_ips/$IP/actions" >/dev/null &&
    echo "assign $IP -> droplet $ID requested (try $n)"
  sleep 3
done
echo "gave up assigning $IP to droplet $ID" >&2
exit 1
