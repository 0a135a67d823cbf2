#!/usr/bin/env bash
# Three federated SPEs on one machine, and an exact federated GLM over them.
#
#   examples/federation/three-nodes.sh CSV1 CSV2 CSV3 --formula "Y ~ X1 + X2" --family binomial|gaussian|poisson
#
# Makes a federation CA and three node certificates, writes three configurations, starts three `spe server --dev` nodes
# on loopback ports with their own data directories, reads what each node runs for the GLM (its version and runner SHA-256,
# as the node's operator sees them), issues a permit at node-a (one dataset per node, that build of the GLM approved),
# imports its signed document at node-b and node-c, uploads CSVn at node n as that node's data holder, runs
# `spe federation glm --json` as the researcher at node-a, prints its JSON on standard output (progress on standard
# error), and stops the nodes. Everything goes into a temporary directory, removed at the end (KEEP=1 keeps it).
#
# Sign-in: each dev node seeds its accounts with a password and a TOTP secret in DATA_DIR/dev-accounts.json (0600). The
# script signs in with `spe login --password-stdin --otp CODE`, computing the code from that secret as an authenticator
# app does (RFC 6238); no other way in is used.
#
# Needs: the .NET 10 SDK (or SPE set to a command that runs spe), python3, curl, and bubblewrap as root (each node runs the
# GLM in its project's sandbox, as dev mode runs jobs). SPE defaults to the Release build of
# src/OpenSpe.Cli (built here when missing).
set -euo pipefail

usage() { echo "usage: $0 CSV1 CSV2 CSV3 --formula FORMULA --family gaussian|binomial|poisson" >&2; exit 2; }
log() { echo "three-nodes: $*" >&2; }

csvs=()
formula=""
family=""
while [ $# -gt 0 ]; do
  case "$1" in
    --formula) [ $# -ge 2 ] || usage; formula="$2"; shift 2 ;;
    --family) [ $# -ge 2 ] || usage; family="$2"; shift 2 ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) csvs+=("$1"); shift ;;
  esac
done
[ "${#csvs[@]}" -eq 3 ] && [ -n "$formula" ] && [ -n "$family" ] || usage
for f in "${csvs[@]}"; do [ -r "$f" ] || { echo "three-nodes: cannot read $f" >&2; exit 2; }; done
case "$family" in gaussian|binomial|poisson) ;; *) usage ;; esac

root="$(cd "$(dirname "$0")/../.." && pwd)"
if [ -z "${SPE:-}" ]; then
  dll="$root/src/OpenSpe.Cli/bin/Release/net10.0/spe.dll"
  if [ ! -f "$dll" ]; then
    log "building spe (Release)..."
    dotnet build "$root/src/OpenSpe.Cli" -c Release -nologo -v quiet >&2
  fi
  SPE="dotnet $dll"
fi
spe() { $SPE "$@"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/spe-three-nodes.XXXXXX")"
chmod 700 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Six free loopback ports: each node's HTTPS API and its federation listener.
read -r api_a api_b api_c fed_a fed_b fed_c < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()
PY
)
declare -A pid
declare -A api=([a]=$api_a [b]=$api_b [c]=$api_c) fed=([a]=$fed_a [b]=$fed_b [c]=$fed_c)

log "federation CA and node certificates in $work/ca"
spe federation ca init --dir "$work/ca" >&2
for n in a b c; do spe federation cert issue --ca "$work/ca" --name "node-$n" --out "$work/certs" >&2; done

# config NODE PEERS... [ISSUER KEYS_FILE]: the node's federation section (its listener, certificates, peers and what it allows).
config() {
  local n="$1" issuer="${2:-}" keys="${3:-}"
  python3 - "$n" "$work" "$issuer" "$keys" "${fed[a]}" "${fed[b]}" "${fed[c]}" > "$work/node-$n.json" <<'PY'
import json, sys
n, work, issuer, keys = sys.argv[1:5]
ports = dict(zip("abc", sys.argv[5:8]))
peers = ["b", "c"] if n == "a" else ["a"]
federation = {
    "Listen": f"127.0.0.1:{ports[n]}",
    "CaCertificate": f"{work}/ca/ca.crt",
    "Crl": f"{work}/ca/ca.crl",
    "Certificate": f"{work}/certs/node-{n}.crt",
    "Key": f"{work}/certs/node-{n}.key",
    "AllowedPeers": [f"node-{p}" for p in peers],
    "AllowedComponents": ["openspe.glm"],
    "Peers": [{"Name": f"node-{p}", "Address": f"https://127.0.0.1:{ports[p]}"} for p in peers],
}
if issuer:
    # node-a's HDAB issues the permit, so node-a coordinates it: its tasks are the only ones node-b and node-c run for it.
    federation["TrustedPermitIssuers"] = [{"Issuer": issuer, "KeysFile": keys, "Node": "node-a"}]
# Each node runs the GLM in its projects' bubblewrap sandboxes (dev mode's runtime), so each gets a uid range of its own:
# three SPEs on one machine must never give two projects one uid.
workspaces = {"UidRangeStart": 210000 + 10000 * "abc".index(n), "UidRangeSize": 1000}
print(json.dumps({"Federation": federation, "Workspaces": workspaces}, indent=2))
PY
}

start() {
  local n="$1"
  log "starting node-$n on https://127.0.0.1:${api[$n]} (federation on ${fed[$n]})"
  # Note: $SPE itself (not the spe function) in the background, so $! is the server's own process and the trap stops it.
  $SPE server --dev --data-dir "$work/node-$n" --urls "https://127.0.0.1:${api[$n]}" --config "$work/node-$n.json" > "$work/node-$n.log" 2>&1 &
  pids+=($!)
  pid[$n]=$!
}

wait_ready() {
  local n="$1"
  for _ in $(seq 1 240); do
    if curl -ksf "https://127.0.0.1:${api[$n]}/healthz" > /dev/null 2>&1; then return 0; fi
    kill -0 "${pid[$n]}" 2>/dev/null || break
    sleep 0.5
  done
  log "node-$n did not start; its log:"; cat "$work/node-$n.log" >&2; exit 1
}

# login NODE ACCOUNT: a CLI session for that account at that node, in its own config directory (printed).
login() {
  local n="$1" account="$2" dir="$work/session-$1-$2"
  mkdir -p "$dir"; chmod 700 "$dir"
  local fingerprint secrets password otp attempt
  fingerprint="$(sed -n 's/^TLS SHA-256 *//p' "$work/node-$n.log" | head -n1 | tr -d ' ')"
  # Note: up to three attempts, each with the code of a later 30-second step, because a sign-in that timed out on a busy
  # machine may have used its code already, and a code is accepted once.
  for attempt in 1 2 3; do
    secrets="$(python3 - "$work/node-$n/dev-accounts.json" "$account" <<'PY'
import base64, hashlib, hmac, json, struct, sys, time
accounts = json.load(open(sys.argv[1]))
account = next(a for a in accounts if a["username"] == sys.argv[2])
secret = account["totpSecret"].replace(" ", "").upper()
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
offset = mac[-1] & 0x0F
code = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000
print(account["password"])
print(f"{code:06d}")
PY
)"
    password="$(printf '%s\n' "$secrets" | sed -n 1p)"
    otp="$(printf '%s\n' "$secrets" | sed -n 2p)"
    if printf '%s\n' "$password" | SPE_CONFIG_DIR="$dir" spe login --server "https://127.0.0.1:${api[$n]}" --ca-fingerprint "$fingerprint" \
      --user "$account" --password-stdin --otp "$otp" >&2; then
      echo "$dir"
      return 0
    fi
    [ "$attempt" = 3 ] || { log "sign-in as $account at node-$n failed; trying again with the next code"; sleep $((30 - $(date +%s) % 30 + 1)); }
  done
  log "cannot sign in as $account at node-$n"
  exit 1
}

as() { local dir="$1"; shift; SPE_CONFIG_DIR="$dir" spe "$@"; }

json_get() { python3 -c 'import json,sys; v=json.load(sys.stdin); print(v[sys.argv[1]])' "$1"; }

config a
start a
wait_ready a
curl -ksf "https://127.0.0.1:${api[a]}/.well-known/spe-keys.json" > "$work/node-a-keys.json"
issuer="$(curl -ksf "https://127.0.0.1:${api[a]}/.well-known/openid-configuration" | json_get issuer)"
log "node-a's permit issuer is $issuer; node-b and node-c trust it"
for n in b c; do config "$n" "$issuer" "$work/node-a-keys.json"; start "$n"; done
wait_ready b
wait_ready c

# What each node runs for the GLM (its runner's version and SHA-256), as each node's operator reads it: the permit approves
# exactly that build, and a node whose build differs refuses the GLM (SPE7021).
glm_identity=""
for n in a b c; do
  identity="$(as "$(login "$n" operator)" operations components --json | python3 -c '
import json, sys
glm = next(f for f in json.load(sys.stdin)["federated"] if f["name"] == "openspe.glm")
print(glm["version"], glm["sha256"])')"
  log "node-$n runs openspe.glm as version/SHA-256 $identity"
  [ -z "$glm_identity" ] || [ "$identity" = "$glm_identity" ] || { log "node-$n runs another build of openspe.glm than node-a"; exit 1; }
  glm_identity="$identity"
done

log "issuing the permit at node-a (hdab)"
hdab_a="$(login a hdab)"
python3 - "${csvs[@]}" $glm_identity > "$work/permit.json" <<'PY'
import datetime, json, os, sys
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
names = [os.path.basename(p) for p in sys.argv[1:4]]
glm_version, glm_sha256 = sys.argv[4:6]
print(json.dumps({
    "reference": "FED-EXAMPLE-" + now.strftime("%Y%m%d%H%M%S"),
    "title": "Three-node federated GLM example",
    "purpose": "scientific-research",
    "legalBasis": "EHDS Article 53(1)(e)",
    "validFrom": (now - datetime.timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
    "validUntil": (now + datetime.timedelta(days=30)).isoformat().replace("+00:00", "Z"),
    "datasets": [
        {"id": "site1", "title": "Site 1 (" + names[0] + ")", "holder": "holder"},
        {"id": "site2", "title": "Site 2 (" + names[1] + ")", "holder": "holder", "node": "node-b"},
        {"id": "site3", "title": "Site 3 (" + names[2] + ")", "holder": "holder", "node": "node-c"},
    ],
    "dataUsers": [{"account": "researcher"}],
    "policies": {
        "fileTypes": {"upload": ["csv"]},
        "airlock": {"threshold": 5},
        # The GLM as the nodes run it; each node also needs it in its Federation:AllowedComponents.
        "approvedComponents": [{"name": "openspe.glm", "version": glm_version, "sha256": glm_sha256}],
    },
}, indent=2))
PY
created="$(as "$hdab_a" permit create --file "$work/permit.json" --json)"
permit="$(printf '%s' "$created" | json_get id)"
declare -A project
project[a]="$(printf '%s' "$created" | json_get projectId)"
as "$hdab_a" permit document "$permit" > "$work/permit.jws"

for n in b c; do
  log "importing the signed permit at node-$n (hdab)"
  hdab="$(login "$n" hdab)"
  project[$n]="$(as "$hdab" permit import --file "$work/permit.jws" --json | json_get projectId)"
done

i=0
for n in a b c; do
  i=$((i + 1))
  log "uploading ${csvs[$((i - 1))]} at node-$n as its holder (dataset site$i)"
  holder="$(login "$n" holder)"
  as "$holder" upload --project "${project[$n]}" --dataset "site$i" "${csvs[$((i - 1))]}" >&2
done

log "running the federated GLM at node-a as the researcher"
researcher="$(login a researcher)"
as "$researcher" federation glm --project "${project[a]}" --formula "$formula" --family "$family" --json
log "done; stopping the nodes"
