#!/bin/sh
# The store at size: seeds a store straight through the store's functions
# (bench/store_seed.c) with GROUPS groups (one TikTok profile each) and
# POSTS posts in one workspace, then measures against one nginx:
#   static   GET of a `return 200` body as large as a post (the baseline)
#   read     GET /api/posts/:id
#   write    POST /api/posts, durable (fsync'ed group commits), and the
#            nginx workers' CPU per post written
#   list     GET /api/posts p99, full-access key and group key, first and
#            last page, each filter; then the same lists' store work in
#            one process (bench/store_list.c): p50, p99, what each read
# Each measure through HTTP is taken ROUNDS times (GET by id in turn
# with the static baseline's) and its median is printed beside its
# range: one round that meets a stall of this shared machine (the static
# `return 200` meets them too) moves the range, not the figure.
#   admin    `tiktok-admin profile add` to an empty group, ms each: the
#            whole process, a process that only opens the store and
#            reads (its start), and inside a process (bench/store_admin.c)
#            the open, the lookups with the write, and the commit's fsync
# Not a test: it prints figures.
#
#   sh bench/store_bench.sh GROUPS POSTS   (DURATION=5 CONNS=64 LIST_S=2
#                                           LIST_CONNS=4 ROUNDS=3
#                                           LIST_PACE_MS=0)
# LIST_PACE_MS=N: the list p99s (and their static baseline) with each
# connection waiting N ms between an answer and its next request
# (bench/paced.lua), a load that leaves the cores idle part of the time;
# 0, the default: each sends its next request at once, and a p99 holds
# the wait for a core behind the other connections and wrk.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${TT_BUILD:-$top/build}
groups=${1:-100}
posts=${2:-10000}
duration=${DURATION:-5}
conns=${CONNS:-64}
list_s=${LIST_S:-2}
list_conns=${LIST_CONNS:-4}
list_pace=${LIST_PACE_MS:-0}
rounds=${ROUNDS:-3}
spare=40
dir=$(mktemp -d "${TMPDIR:-/tmp}/tt-sbench-XXXXXX")
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port=$(free_port)
sport=$(free_port)
mkdir -p "$dir/tmp" "$dir/store"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/token-key"
echo secret > "$dir/client-secret"

nginx_pid=""
cleanup() {
    [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

for prog in store_seed store_admin store_list; do
    cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$top/core" -o "$dir/$prog" \
       "$top/bench/$prog.c" "$build/libttcore.a" -llmdb -lyajl -lcrypto \
       -labsl_time_zone -lstdc++ -lm
done
load0=$(cut -d' ' -f1-3 /proc/loadavg)

t0=$(date +%s.%N)
set -- $("$dir/store_seed" "$dir/store" "$groups" "$posts" "$spare")
ws=$1 group=$2 empty=$3
t1=$(date +%s.%N)
seed_s=$(awk "BEGIN {printf \"%.1f\", $t1 - $t0}")

# The seed's large transactions leave LMDB a long free list, which a store
# grown by the API's small ones does not have (LMDB then searches it for
# each large record): the store is measured compacted, as mdb_copy -c
# leaves it.  COMPACT=0 measures it as seeded.
free_pages=$(mdb_stat -f "$dir/store" | awk '/Free pages/ {print $3}')
if [ "${COMPACT:-1}" = 1 ]; then
    mkdir "$dir/compact"
    mdb_copy -c "$dir/store" "$dir/compact"
    rm -rf "$dir/store"
    mv "$dir/compact" "$dir/store"
fi
# A store in service is in the page cache, and has no backlog of dirty
# pages: the copy (written with O_DIRECT) is in none of the cache, and an
# uncompacted seed's whole file is dirty.  Unread, the first reads of a
# list would wait for the disk (40-60 ms p99 at a million posts), and
# the first commit's fdatasync would write back the seed's file.
sync "$dir/store/data.mdb"
cat "$dir/store/data.mdb" > /dev/null
store_mb=$(du -m "$dir/store/data.mdb" | cut -f1)

conf() {
    if [ "$(id -u)" = 0 ]; then user="user root;"; else user=""; fi
    sed -e "s|@MODULE@|$build/nginx/objs/ngx_http_tiktok_module.so|" \
        -e "s|@WORKERS@|2|" -e "s|@USER@|$user|" -e "s|@DIR@|$dir|g" \
        -e "s|@LOG_LEVEL@|warn|" -e "s|@ACCESS_LOG@|off|" \
        -e "s|@TIKTOK_API@|http://127.0.0.1:9|g" \
        -e "s|@CLIENT_KEY@|bench|" -e "s|@PORT@|$port|" \
        -e "s|@EXTRA_HTTP@|server { listen 127.0.0.1:$sport; location = /static { default_type application/json; return 200 '$1'; } }|" \
        -e "s|@EXTRA_SERVER@||" -e "s|@EXTRA_API@||" \
        "$top/conf/nginx.conf.in" > "$dir/nginx.conf"
}

admin() { "$build/tiktok-admin" -s "$dir/store" -k "$dir/token-key" "$@"; }
key=$(admin key create "$ws")
gkey=$(admin key create "$ws" --group "$group")

# `profile add` into the empty groups the seed left, ms each
groups_all=$(admin group list "$ws" | awk -v e="$empty" '$1 >= e {print $1}')
groups_empty=$(echo "$groups_all" | head -20)
groups_inner=$(echo "$groups_all" | sed -n '21,30p')
t0=$(date +%s.%N)
n=0
for g in $groups_empty; do
    admin profile add "$g" --open-id "bench-$g" --username u --name N \
        --access-token act.b --refresh-token rft.b --expires-in 86400 \
        --refresh-expires-in 31536000 > /dev/null
    n=$((n + 1))
done
t1=$(date +%s.%N)
add_ms=$(awk "BEGIN {printf \"%.1f\", 1000 * ($t1 - $t0) / $n}")

# a process that opens the store and reads an index: its start
t0=$(date +%s.%N)
for i in $(seq 20); do admin key list ws_none > /dev/null; done
t1=$(date +%s.%N)
start_ms=$(awk "BEGIN {printf \"%.1f\", 1000 * ($t1 - $t0) / 20}")
set -- $("$dir/store_admin" "$dir/store" $groups_inner)
inner_open=$1 inner_work=$2 inner_commit=$3

id=p_b000000000001
conf x
nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
nginx_pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/api/health"; do
    i=$((i + 1)); [ $i -lt 300 ] || { cat "$dir/error.log"; exit 1; }
    sleep 0.1
done
size=$(curl -s "http://127.0.0.1:$port/api/posts/$id" \
       -H "Authorization: Bearer $key" | wc -c)
conf "$(head -c "$size" /dev/zero | tr '\0' 'x')"
nginx -s reload -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
sleep 1

# one wrk run of DURATION: its requests a second; its answers not 2xx
# are added to $dir/non2xx.NAME
rps() {
    name=$1
    shift
    wrk -t1 -c"$conns" -d"${duration}s" "$@" > "$dir/wrk.$name" 2>&1
    awk '/Non-2xx/ {n = $NF} END {print n + 0}' "$dir/wrk.$name" \
        >> "$dir/non2xx.$name"
    awk '/Requests\/sec/ {print int($2)}' "$dir/wrk.$name"
}

# the numbers on standard input: their median, least and greatest
stats() {
    sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)], v[1], v[NR]}'
}

# the p99 of a wrk run with --latency, in us
p99_us() {
    awk '$1 == "99%" {
        v = $2; u = $2; sub(/[a-z]+$/, "", v); sub(/^[0-9.]+/, "", u)
        print int(v * (u == "s" ? 1e6 : u == "ms" ? 1000 : 1) + 0.5)
    }' "$1"
}

# "median (least-greatest)" of a stats line, with a unit
range() { echo "$1$4 ($2-$3$4)"; }

# CPU seconds (user + system) of the nginx workers so far
cpu() {
    total=0
    for p in $(pgrep -P "$nginx_pid"); do
        t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
        total=$((total + t))
    done
    echo "$total"
}

total_of() {
    curl -s "http://127.0.0.1:$port/api/posts?per_page=1&$2" \
        -H "Authorization: Bearer $1" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'
}

: > "$dir/non2xx.static"; : > "$dir/non2xx.read"; : > "$dir/non2xx.write"
# static and read in turn, ROUNDS times: each round's read against the
# static of the same round
i=0
while [ $i -lt "$rounds" ]; do
    s=$(rps static "http://127.0.0.1:$sport/static")
    r=$(rps read -H "Authorization: Bearer $key" \
        "http://127.0.0.1:$port/api/posts/$id")
    echo "$s $r"
    i=$((i + 1))
done > "$dir/rounds.read"
static=$(cut -d' ' -f1 "$dir/rounds.read" | stats)
read=$(cut -d' ' -f2 "$dir/rounds.read" | stats)
ratio=$(awk '{print int(100 * $2 / $1 + 0.5)}' "$dir/rounds.read" | stats)

before=$(total_of "$key" "")
c0=$(cpu)
export TT_KEY="$key"
i=0
while [ $i -lt "$rounds" ]; do
    rps write -s "$top/bench/post.lua" "http://127.0.0.1:$port/api/posts"
    i=$((i + 1))
done > "$dir/rounds.write"
c1=$(cpu)
after=$(total_of "$key" "")
write=$(stats < "$dir/rounds.write")
hz=$(getconf CLK_TCK)
cpu_us=$(awk "BEGIN {printf \"%.0f\", 1e6 * ($c1 - $c0) / $hz / ($after - $before)}")
non2xx() { awk '{n += $1} END {print n + 0}' "$dir/non2xx.$1"; }

echo "groups $groups, posts $posts (seeded in ${seed_s}s, $free_pages free pages left; ${store_mb} MB$([ "${COMPACT:-1}" = 1 ] && echo ", compacted")), workspace $ws"
echo "$rounds rounds of ${duration}s each, median (least-greatest):"
echo "static return 200:      $(range $static /s) (body $size bytes)"
echo "GET /api/posts/:id:     $(range $read /s), $(range $ratio %) of static"
echo "POST /api/posts:        $(range $write /s) durable, nginx CPU ${cpu_us} us/post ($((after - before)) written)"
echo "profile add:            $add_ms ms each, whole process (to a group of $groups)"
echo "  a process's start:    $start_ms ms (key list: exec, libraries, store open, one read)"
echo "  inside the process:   open $inner_open ms, lookups + write $inner_work ms, commit with fsync $inner_commit ms"
echo "answers not 2xx:        static $(non2xx static), read $(non2xx read), write $(non2xx write)"

# list p99, LIST_CONNS connections, per_page 10, each page ROUNDS times
# (LIST_S each): the median p99 and its range; the baseline: the static
# `return 200`'s p99 under the same load, in the same run
paced=""
[ "$list_pace" -gt 0 ] && paced="-s $top/bench/paced.lua"
list_p99() {
    i=0
    while [ $i -lt "$rounds" ]; do
        TT_PACE_MS=$list_pace wrk -t1 -c"$list_conns" -d"${list_s}s" \
            --latency $paced "$@" > "$dir/wrk.list" 2>&1
        p99_us "$dir/wrk.list"
        awk '/requests in/ {print $1}' "$dir/wrk.list" >> "$dir/list.n"
        awk '/Non-2xx/ {print $NF}' "$dir/wrk.list" >> "$dir/non2xx.list"
        i=$((i + 1))
    done > "$dir/rounds.list"
    stats < "$dir/rounds.list"
}
: > "$dir/non2xx.list"
echo "static return 200 p99, $list_conns connections: $(range $(list_p99 "http://127.0.0.1:$sport/static") " us")"
lc0=$(cpu)
: > "$dir/list.n"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
later=$(date -u -d '+60 days' +%Y-%m-%dT%H:%M:%SZ)
over=0
pages=0
printf '%-6s %-41s %7s %-18s %-18s\n' key filter total "p99 first, us" "p99 last, us"
for who in full group; do
    k=$key
    [ $who = group ] && k=$gkey
    for f in "" status=draft status=scheduled status=published \
             status=failed "scheduled_after=$now" "scheduled_before=$later" \
             "scheduled_after=$now&scheduled_before=$later" queue_id=q_b000003
    do
        tot=$(total_of "$k" "$f")
        last=$(( tot > 0 ? (tot - 1) / 10 : 0 ))
        out=""
        for page in 0 "$last"; do
            set -- $(list_p99 -H "Authorization: Bearer $k" \
                     "http://127.0.0.1:$port/api/posts?page=$page&$f")
            [ "$1" -le 2000 ] || over=$((over + 1))
            pages=$((pages + 1))
            out="$out $(printf '%-18s' "$1 ($2-$3)")"
        done
        name=$(echo "${f:-(none)}" | sed -e "s/$now/now/g" -e "s/$later/+60d/g")
        printf '%-6s %-41s %7s%s\n' $who "$name" "$tot" "$out"
    done
done
lc1=$(cpu)
ln=$(awk '{n += $1} END {print n}' "$dir/list.n")
echo "list pages with a median p99 over 2 ms: $over of $pages; answers not 2xx: $(non2xx list)"
echo "lists: nginx CPU $(awk "BEGIN {printf \"%.0f\", 1e6 * ($lc1 - $lc0) / $hz / $ln}") us per page over $ln pages"
echo "wrk: 1 thread, $conns connections, ${duration}s (lists: $list_conns, ${list_s}s, ${list_pace} ms between a connection's requests); nginx: 2 workers; $(nproc) cores"
echo "the same lists in one process (bench/store_list.c, 300 reads each; CPU time p50, p99 and worst wall time, us):"
"$dir/store_list" "$dir/store" "$ws" "$group"
echo "load average: $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
