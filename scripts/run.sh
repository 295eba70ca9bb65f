#!/bin/sh
# make run: the whole stack in the foreground on http://127.0.0.1:$PORT:
# the local TikTok sandbox (the simulator), nginx with the module, and the
# scheduler, with one workspace, an API key and a connected sandbox
# TikTok profile.  Data lives under ./var/.  Ctrl-C stops everything.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${TT_BUILD:-$top/build}
port=${PORT:-8080}
var=$top/var
sim_port=${SIM_PORT:-$((port + 1))}

mkdir -p "$var/tmp"
cd "$top"

pids=""
stop() {
    trap - INT TERM EXIT
    for p in $pids; do
        kill -TERM "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    echo "stopped"
}
trap stop INT TERM EXIT

# secrets of the local sandbox: made once, kept under var/
[ -f "$var/client-secret" ] || \
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$var/client-secret"
if [ ! -f "$var/token-key" ]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$var/token-key"
    chmod 600 "$var/token-key"
fi

# the local TikTok sandbox
python3 t/sim/tiktok_sim.py --host 127.0.0.1 --port "$sim_port" \
    --client-key sandbox-client --client-secret "$(cat "$var/client-secret")" \
    --state-file "$var/sim-state.json" --media-dir "$var/media" \
    > "$var/sim.log" 2>&1 &
pids="$pids $!"
mkdir -p "$var/media"

# nginx with the module
if [ "$(id -u)" = 0 ]; then user="user root;"; else user=""; fi
sed -e "s|@MODULE@|$build/nginx/objs/ngx_http_tiktok_module.so|" \
    -e "s|@WORKERS@|2|" -e "s|@USER@|$user|" -e "s|@DIR@|$var|g" \
    -e "s|@LOG_LEVEL@|notice|" -e "s|@ACCESS_LOG@|$var/access.log tiktok|" \
    -e "s|@TIKTOK_API@|http://127.0.0.1:$sim_port|g" \
    -e "s|@CLIENT_KEY@|sandbox-client|" -e "s|@PORT@|$port|g" \
    -e "s|@WWW@|$top/www|g" \
    -e "s|@EXTRA_HTTP@||" -e "s|@EXTRA_SERVER@||" -e "s|@EXTRA_API@||" \
    conf/nginx.conf.in > "$var/nginx.conf"

nginx -t -q -p "$var" -c "$var/nginx.conf" -e "$var/error.log"
nginx -p "$var" -c "$var/nginx.conf" -e "$var/error.log" &
pids="$pids $!"

wait_http() {
    i=0
    until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 1)" \
          2>/dev/null
    do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "$2 did not start; see var/*.log" >&2
            exit 1
        fi
        sleep 0.1
    done
}
wait_http "$sim_port" "the TikTok sandbox"
wait_http "$port" "nginx"

admin() { "$build/tiktok-admin" -s "$var/store" -k "$var/token-key" "$@"; }

# a workspace, its key, and a sandbox profile: once
if [ ! -s "$var/api-key" ]; then
    ws=$(admin workspace create "Local")
    admin key create "$ws" --name "development" > "$var/api-key"
    chmod 600 "$var/api-key"
fi

if [ -z "$(admin profile list | grep prof_ || true)" ]; then
    ws=$(admin workspace list | awk 'NR==1 {print $1}')
    group=$(admin group list "$ws" | awk 'NR==1 {print $1}')
    user=$(curl -s -X POST "http://127.0.0.1:$sim_port/__sim/users" \
        -H 'Content-Type: application/json' \
        -d '{"username":"sandbox.creator","nickname":"Sandbox Creator"}')
    field() {
        python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
    }
    admin profile add "$group" \
        --open-id "$(echo "$user" | field open_id)" \
        --username sandbox.creator --name "Sandbox Creator" \
        --access-token "$(echo "$user" | field access_token)" \
        --refresh-token "$(echo "$user" | field refresh_token)" \
        --expires-in "$(echo "$user" | field expires_in)" \
        --refresh-expires-in "$(echo "$user" | field refresh_expires_in)" \
        > /dev/null
fi

# a sample video on the sandbox's media host, made once: the seed's
# yourcdn.com URL does not exist, this one does
sample=launch-9x16.mp4
if [ ! -s "$var/media/$sample" ] && command -v ffmpeg >/dev/null 2>&1; then
    ffmpeg -v error -y -f lavfi -i testsrc2=size=720x1280:rate=30:duration=5 \
        -f lavfi -i sine=frequency=440:duration=5 -c:v libx264 \
        -preset veryfast -pix_fmt yuv420p -c:a aac -shortest \
        "$var/media/.$sample" && mv "$var/media/.$sample" "$var/media/$sample"
fi

# the scheduler
if [ -x "$build/tiktok-scheduler" ]; then
    "$build/tiktok-scheduler" -s "$var/store" 2>> "$var/scheduler.log" &
    pids="$pids $!"
fi

key=$(cat "$var/api-key")
at=$(date -u -d '+2 minutes' +%Y-%m-%dT%H:%M:00Z)
cat <<MSG

  ngx_tiktok is running on http://127.0.0.1:$port
  calendar page:    http://127.0.0.1:$port/  (sign in with the API key)
  TikTok sandbox:   http://127.0.0.1:$sim_port  (var/sim.log)
  API key:          $key   (also in var/api-key)
  logs:             var/error.log var/scheduler.log

  Schedule the sample video for $at:

  curl -X POST "http://127.0.0.1:$port/api/posts" \\
    -H "Authorization: Bearer $key" \\
    -H "Content-Type: application/json" \\
    -d '{"post": {"body": "New product drop. Link in bio.",
                  "scheduled_at": "$at"},
         "profiles": ["tiktok"],
         "media": ["http://127.0.0.1:$sim_port/media/$sample"],
         "platforms": {"tiktok": {"privacy_status": "PUBLIC_TO_EVERYONE"}}}'

  What the sandbox published: curl http://127.0.0.1:$sim_port/__sim/ledger
  Ctrl-C stops everything.
MSG

wait
