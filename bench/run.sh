#!/bin/sh
# The API benchmark: in one run, against one nginx, measures
#   static   GET of a `return 200` body as large as a post (the baseline)
#   read     GET /api/posts/:id
#   write    POST /api/posts, durable (fsync'ed group commits)
# and prints requests/s and the ratios.  Not a test: it prints figures.
#
#   sh bench/run.sh            (DURATION=10 CONNS=64 to change the load)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${TT_BUILD:-$top/build}
duration=${DURATION:-10}
conns=${CONNS:-64}
dir=$(mktemp -d "${TMPDIR:-/tmp}/tt-bench-XXXXXX")
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port=$(free_port)
# the baseline's server of its own: no tiktok_api there, so none of the
# API server's work (X-Request-Id) on its answers
sport=$(free_port)
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

conf() {
    if [ "$(id -u)" = 0 ]; then user="user root;"; else user=""; fi
    sed -e "s|@MODULE@|$build/nginx/objs/ngx_http_tiktok_module.so|" \
        -e "s|@WORKERS@|2|" -e "s|@USER@|$user|" -e "s|@DIR@|$dir|g" \
        -e "s|@LOG_LEVEL@|warn|" -e "s|@ACCESS_LOG@|off|" \
        -e "s|@TIKTOK_API@|http://127.0.0.1:9|g" \
        -e "s|@CLIENT_KEY@|bench|" -e "s|@PORT@|$port|" \
        -e "s|@EXTRA_HTTP@|${EXTRA_HTTP:-} server { listen 127.0.0.1:$sport; location = /static { default_type application/json; return 200 '$1'; } }|" \
        -e "s|@EXTRA_SERVER@||" -e "s|@EXTRA_API@||" \
        "$top/conf/nginx.conf.in" > "$dir/nginx.conf"
}

conf "x"
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

export TT_KEY="$key"
post=$(curl -s -X POST "http://127.0.0.1:$port/api/posts" \
    -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    --data-binary @- <<'JSON'
{"post": {"body": "New product drop. Link in bio.",
  "scheduled_at": "2030-05-12T09:00:00Z"}, "profiles": ["tiktok"],
  "media": ["https://yourcdn.com/launch-9x16.mp4"],
  "platforms": {"tiktok": {"privacy_status": "PUBLIC_TO_EVERYONE"}}}
JSON
)
id=$(echo "$post" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
size=$(curl -s "http://127.0.0.1:$port/api/posts/$id" \
       -H "Authorization: Bearer $key" | wc -c)

# the baseline: the same nginx, a static body of the same size
conf "$(head -c "$size" /dev/zero | tr '\0' 'x')"
nginx -s reload -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
sleep 1

# requests/s; the answers that were not 2xx go to $dir/non2xx.NAME
rps() {
    name=$1
    shift
    wrk -t1 -c"$conns" -d"${duration}s" "$@" > "$dir/wrk.$name" 2>&1
    awk '/Non-2xx/ {n = $NF} END {print n + 0}' "$dir/wrk.$name" \
        > "$dir/non2xx.$name"
    awk '/Requests\/sec/ {print int($2)}' "$dir/wrk.$name"
}

static=$(rps static "http://127.0.0.1:$sport/static")
read=$(rps read -H "Authorization: Bearer $key" \
       "http://127.0.0.1:$port/api/posts/$id")
write=$(rps write -s "$top/bench/post.lua" "http://127.0.0.1:$port/api/posts")
stored=$(curl -s "http://127.0.0.1:$port/api/posts?per_page=1" \
         -H "Authorization: Bearer $key" \
         | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')

echo "body size:             $size bytes"
echo "static return 200:     $static req/s"
echo "GET /api/posts/:id:    $read req/s ($(awk "BEGIN {printf \"%.0f\", 100 * $read / $static}")% of static; target >= 70%)"
echo "POST /api/posts:       $write req/s durable (target >= 10000)"
echo "posts stored:          $stored"
echo "answers not 2xx:       static $(cat "$dir/non2xx.static"), read $(cat "$dir/non2xx.read"), write $(cat "$dir/non2xx.write")"
echo "wrk: 1 thread, $conns connections, ${duration}s each; nginx: 2 workers; $(nproc) cores"
