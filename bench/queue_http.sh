#!/bin/sh
# Queued against exact-time creates through HTTP, in one run against one
# nginx: durable POST /api/posts with a scheduled_at (bench/post.lua),
# then into a queue with no time (bench/post_queued.lua: each post takes
# its slot in the transaction that stores it), in alternating rounds so
# that both see the same machine and a store of the same size; the queue
# starts with SEED posts (10,000).  Not a test: it prints figures.
#
#   make bench-queue-http      (ROUNDS=3 DURATION=5 CONNS=64 SEED=10000)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${TT_BUILD:-$top/build}
duration=${DURATION:-5}
conns=${CONNS:-64}
rounds=${ROUNDS:-3}
seed=${SEED:-10000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/tt-qhttp-XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$dir/tmp"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/token-key"
echo secret > "$dir/client-secret"

nginx_pid=""
cleanup() {
    [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" = 0 ]; then user="user root;"; else user=""; fi
sed -e "s|@MODULE@|$build/nginx/objs/ngx_http_tiktok_module.so|" \
    -e "s|@WORKERS@|2|" -e "s|@USER@|$user|" -e "s|@DIR@|$dir|g" \
    -e "s|@LOG_LEVEL@|warn|" -e "s|@ACCESS_LOG@|off|" \
    -e "s|@TIKTOK_API@|http://127.0.0.1:9|g" \
    -e "s|@CLIENT_KEY@|bench|" -e "s|@PORT@|$port|" \
    -e "s|@EXTRA_HTTP@||" -e "s|@EXTRA_SERVER@||" -e "s|@EXTRA_API@||" \
    "$top/conf/nginx.conf.in" > "$dir/nginx.conf"

nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
nginx_pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/api/health"; do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$dir/error.log"; exit 1; }
    sleep 0.1
done

admin() { "$build/tiktok-admin" -s "$dir/store" -k "$dir/token-key" "$@"; }
ws=$(admin workspace create bench)
key=$(admin key create "$ws")
group=$(admin group list "$ws" | awk 'NR==1 {print $1}')
admin profile add "$group" --open-id bench --username bench --name Bench \
    --access-token act.bench --refresh-token rft.bench \
    --expires-in 86400 --refresh-expires-in 31536000 > /dev/null

api() {
    curl -s -X "$1" "http://127.0.0.1:$port$2" \
        -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        ${3:+--data-binary "$3"}
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# a slot every half hour, all week (336): room for a year of posts
slots=$(python3 -c 'import json; print(json.dumps([{"day": d, "time": "%02d:%02d" % (m // 60, m % 60)} for d in range(7) for m in range(0, 1440, 30)]))')
queue=$(api POST /api/post_queues "{\"profile_group_id\": \"$group\",
  \"post_queue\": {\"name\": \"bench\", \"timezone\": \"America/Los_Angeles\",
  \"jitter\": 10, \"queue_timeslots_attributes\": $slots}}" | json '["id"]')

# the queue's first posts, in batches of 100
python3 - "$port" "$key" "$queue" "$seed" <<'PY'
import json, sys, urllib.request
port, key, queue, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
post = {"post": {"body": "seed"}, "queue_id": queue, "profiles": ["tiktok"],
        "media": ["https://yourcdn.com/launch-9x16.mp4"],
        "platforms": {"tiktok": {"privacy_status": "PUBLIC_TO_EVERYONE"}}}
for i in range(0, n, 100):
    body = json.dumps({"posts": [post] * min(100, n - i)}).encode()
    req = urllib.request.Request(
        "http://127.0.0.1:%s/api/posts/batch" % port, data=body,
        headers={"Authorization": "Bearer " + key,
                 "Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
PY

export TT_KEY="$key" TT_QUEUE="$queue"

rps() {
    wrk -t1 -c"$conns" -d"${duration}s" -s "$top/bench/$1" \
        "http://127.0.0.1:$port/api/posts" > "$dir/wrk" 2>&1
    awk '/Non-2xx/ {n = $NF} END {print n + 0}' "$dir/wrk" >> "$dir/non2xx"
    awk '/Requests\/sec/ {print int($2)}' "$dir/wrk"
}

exact=0
queued=0
r=0
while [ $r -lt "$rounds" ]; do
    e=$(rps post.lua)
    q=$(rps post_queued.lua)
    echo "round $((r + 1)): exact time $e req/s, queued $q req/s"
    exact=$((exact + e))
    queued=$((queued + q))
    r=$((r + 1))
done

count=$(api GET "/api/post_queues/$queue" | json '["posts_count"]')
echo "POST /api/posts, durable: exact time $((exact / rounds)) req/s, queued $((queued / rounds)) req/s ($(awk "BEGIN {printf \"%.0f\", 100 * $queued / $exact}")%; target >= 80%)"
echo "queue: $count posts at the end (from $seed); answers not 2xx: $(awk '{n += $1} END {print n + 0}' "$dir/non2xx")"
echo "wrk: 1 thread, $conns connections, ${duration}s a round, $rounds rounds each; nginx: 2 workers; $(nproc) cores"
