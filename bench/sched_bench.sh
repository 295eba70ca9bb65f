#!/bin/sh
#
# Copyright (C) the ngx_tiktok authors.
# Scheduler benchmarks against the TikTok simulator on loopback:
#
#   1. N posts (default 1,000) due in the same second across N profiles:
#      the lag from the due time to each profile's first TikTok call
#      (creator_info, as the simulator saw it), p50 / p99 / max.
#   2. U concurrent uploads (default 200) of a 20 MB file: the aggregate
#      throughput beside one plain `curl -T` of the same file in the same
#      run, and the daemon's peak RSS.
#
# usage: bench/sched_bench.sh [BUILD_DIR]   (env: N, U, SIZE_MB; U=0 runs
# only the first part)

set -e

TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-${TT_BUILD:-$TOP/build}}
N=${N:-1000}
U=${U:-200}
SIZE_MB=${SIZE_MB:-20}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/tt-sched-bench-XXXXXX")
SIMPID=
DPID=

cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
    [ -n "$KEEP" ] || rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

for f in tiktok-scheduler tiktok-admin sched_seed; do
    [ -x "$B/$f" ] || { echo "missing $B/$f" >&2; exit 1; }
done

python3 "$TOP/t/sim/tiktok_sim.py" --port 0 --client-key bench \
    --client-secret bench-secret --die-with-parent \
    > "$DIR/sim.out" 2> "$DIR/sim.log" &
SIMPID=$!

for i in $(seq 50); do
    grep -q "^listening on" "$DIR/sim.out" 2>/dev/null && break
    sleep 0.1
done

SIM=http://$(sed -n 's/^listening on \([0-9.:]*\).*/\1/p' "$DIR/sim.out")
# the benchmark measures the scheduler, not TikTok's limits
curl -sf -X POST "$SIM/__sim/config" -d '{"processing_delay": 0.2,
    "daily_post_cap": 100000, "upload_url_ttl": 36000}' > /dev/null

# users: "open_id username access refresh" per line
mkusers() {
    python3 - "$SIM" "$1" > "$2" <<'EOF'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
for i in range(int(sys.argv[2])):
    c.request("POST", "/__sim/users", body=json.dumps(
        {"account_private": True}))
    d = json.loads(c.getresponse().read())
    print(d["open_id"], d["username"], d["access_token"],
          d["refresh_token"])
EOF
}

# a fresh store with a configuration record and a workspace
mkstore() {
    rm -rf "$DIR/store" "$DIR/spool"
    mkdir -p "$DIR/store" "$DIR/spool"
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DIR/key.hex"
    printf bench-secret > "$DIR/secret"
    "$B/sched_seed" "$DIR/store" config api_base="$SIM" \
        wake_socket="$DIR/wake.sock" spool_dir="$DIR/spool" \
        client_key=bench client_secret_file="$DIR/secret" \
        token_key_file="$DIR/key.hex" max_uploads="$1" \
        max_lateness_ms=600000 refresh_margin_ms=60000
    WS=$("$B/tiktok-admin" -s "$DIR/store" workspace create bench)
    PG=$("$B/tiktok-admin" -s "$DIR/store" group list "$WS" | cut -f1)
}

# waits until the ledger holds n finished publishes
wait_done() {
    python3 - "$SIM" "$1" "$2" <<'EOF'
import json, sys, time, urllib.request
end = time.time() + float(sys.argv[3])
while time.time() < end:
    d = json.load(urllib.request.urlopen(sys.argv[1] + "/__sim/ledger"))
    done = [p for p in d["publishes"]
            if p["status"] in ("PUBLISH_COMPLETE", "FAILED")]
    if len(done) >= int(sys.argv[2]):
        print("%d publishes done" % len(done))
        sys.exit(0)
    time.sleep(0.5)
print("timeout", file=sys.stderr)
sys.exit(1)
EOF
}

rss() {
    awk '/VmHWM/ {print $2 / 1024 " MB"}' "/proc/$1/status"
}


echo "== 1. $N posts due in the same second, $N profiles"

mkusers "$N" "$DIR/users"
mkstore 64
head -c 100000 /dev/urandom > "$DIR/small.mp4"
DUE=$(( ($(date +%s) + 6) * 1000 ))
TT_TOKEN_KEY_FILE="$DIR/key.hex" "$B/sched_seed" "$DIR/store" bulk "$WS" \
    "$PG" "$DUE" "$DIR/small.mp4" "$DIR/users"

$WRAP "$B/tiktok-scheduler" -s "$DIR/store" $VERBOSE 2> "$DIR/sched1.log" &
DPID=$!
wait_done "$N" 180
echo "peak RSS $(rss $DPID)"
kill "$DPID"; wait "$DPID" || true; DPID=
grep "due time to first" "$DIR/sched1.log" | sed 's/^.*: due/daemon: due/'

python3 - "$SIM" "$DUE" <<'EOF'
import json, sys, urllib.request
d = json.load(urllib.request.urlopen(
    sys.argv[1] + "/__sim/requests?endpoint=creator_info"))
due = int(sys.argv[2]) / 1000.0
first = {}
for r in d["requests"]:
    first.setdefault(r["open_id"], r["time"])
lags = sorted((t - due) * 1000 for t in first.values())
n = len(lags)
pct = lambda p: lags[min(n - 1, int(p * n))]
print("simulator: first call after due: n=%d min=%.1f p50=%.1f p99=%.1f max=%.1f ms"
      % (n, lags[0], pct(0.50), pct(0.99), lags[-1]))
early = [l for l in lags if l < 0]
print("calls before the due time: %d" % len(early))
EOF

[ "$U" -gt 0 ] || exit 0


echo "== 2. $U concurrent uploads of ${SIZE_MB} MB"

curl -sf -X POST "$SIM/__sim/reset" > /dev/null
curl -sf -X POST "$SIM/__sim/config" -d '{"processing_delay": 0.2,
    "daily_post_cap": 100000}' > /dev/null
mkusers "$U" "$DIR/users2"
mkusers 1 "$DIR/user-curl"
mkstore "$U"
head -c $((SIZE_MB * 1000000)) /dev/urandom > "$DIR/big.mp4"
SIZE=$(stat -c %s "$DIR/big.mp4")

# one plain curl -T of the same file to an upload URL of its own
python3 - "$SIM" "$SIZE" "$DIR/user-curl" > "$DIR/curl-url" <<'EOF'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
tok = open(sys.argv[3]).read().split()[2]
c = http.client.HTTPConnection(u.hostname, u.port)
size = int(sys.argv[2])
c.request("POST", "/v2/post/publish/video/init/", body=json.dumps({
    "post_info": {"privacy_level": "SELF_ONLY", "brand_content_toggle": False,
                  "brand_organic_toggle": False},
    "source_info": {"source": "FILE_UPLOAD", "video_size": size,
                    "chunk_size": size, "total_chunk_count": 1}}),
    headers={"Authorization": "Bearer " + tok,
             "Content-Type": "application/json"})
print(json.loads(c.getresponse().read())["data"]["upload_url"])
EOF
# the upload URL's path ends in '/': -T would append the file name to it,
# so the path goes in --request-target
URL=$(cat "$DIR/curl-url")
CURL_SPEED=$(curl -s -o /dev/null -T "$DIR/big.mp4" -H 'Content-Type: video/mp4' \
    -H "Content-Range: bytes 0-$((SIZE - 1))/$SIZE" -w '%{speed_upload}' \
    --request-target "/${URL#http*://*/}" "$SIM/put")
echo "curl -T: $(echo "$CURL_SPEED" | awk '{printf "%.1f MB/s", $1 / 1e6}')"

DUE=$(( ($(date +%s) + 2) * 1000 ))
TT_TOKEN_KEY_FILE="$DIR/key.hex" "$B/sched_seed" "$DIR/store" bulk "$WS" \
    "$PG" "$DUE" "$DIR/big.mp4" "$DIR/users2"

"$B/tiktok-scheduler" -s "$DIR/store" 2> "$DIR/sched2.log" &
DPID=$!
wait_done $((U + 1)) 600
echo "peak RSS $(rss $DPID)"
kill "$DPID"; wait "$DPID" || true; DPID=

python3 - "$SIM" "$SIZE" "$U" <<'EOF'
import json, sys, urllib.request
d = json.load(urllib.request.urlopen(
    sys.argv[1] + "/__sim/requests?endpoint=upload"))
rs = [r for r in d["requests"] if r["status"] in (201, 206)]
t0 = min(r["time"] for r in rs)
t1 = max(r["time"] + r["duration"] for r in rs)
total = int(sys.argv[2]) * int(sys.argv[3])
print("daemon: %d uploads, %.0f MB in %.1f s: %.1f MB/s aggregate"
      % (int(sys.argv[3]), total / 1e6, t1 - t0, total / 1e6 / (t1 - t0)))
bad = [r for r in d["requests"] if r["status"] not in (201, 206)]
print("rejected chunk PUTs: %d" % len(bad))
EOF
