#!/bin/sh
#
# Copyright (C) the ngx_tiktok authors.
# Does a 1 GB media download + probe hold up a concurrent upload's chunks?
# (requirement: "the probe never stops the loop for long: a 1 GB file's
# probe must not delay a concurrent upload's chunks by more than 50 ms").
# A benchmark that prints figures, not a test: it passes or fails nothing.
#
# One run, against the TikTok simulator on loopback, no nginx (the store is
# seeded by sched_seed, the daemon woken through its wake socket, as the
# module does):
#
#   1. ffmpeg makes a ~1 GB valid MP4 (4 s of lossless H.264 noise + AAC,
#      stream-copied 4 times, 16 s): big-moovend.mp4 (moov at the end, as
#      the mp4 muxer writes it: libavformat reads the head, skips the 1 GB
#      mdat and seeks to the end) and big-faststart.mp4 (moov first).
#   2. A simulator for TikTok, with a delay fault of CHUNK_DELAY_MS on
#      every chunk PUT (before its body is read) so that the upload lasts
#      many seconds, and a second simulator process that only serves the
#      media (serving 1 GB in Python would otherwise hold the GIL of the
#      one that timestamps the chunks).  The daemon: chunk_size 5 MiB, -v.
#   3. Rounds, one per word of ROUNDS_VARIANTS (at most 15: the daemon's
#      own daily cap per creator): a post with an UPLOAD_MB file (already
#      processed) is due now; once BASE_CHUNKS of its chunks have arrived
#      (the baseline window), a post with the 1 GB media URL is created
#      (the round number in the query string makes it a new download),
#      timed PROBE_LEAD_MS before a chunk's answer, and the daemon
#      downloads the file to the spool and probes it while the upload goes
#      on.  A variant NAME:spool puts the file in the spool first, under
#      the URL's spool name and out of the page cache: the daemon then
#      probes it without a download (the probe alone, reading the disk).
#   4. From the simulator's per-chunk times (ledger chunk_times): the
#      turnaround of each chunk, from the flush of the answer to chunk k to
#      the arrival of the head of chunk k+1 (the daemon's own reaction:
#      curl reads the answer, the job saves the progress, the loop commits,
#      the next PUT starts); the head-to-head gap of consecutive PUTs (the
#      delay fault + the body + the turnaround); and the body's transfer.
#      Windows: baseline (before the media post), during (the interval
#      meets the time from the post's creation to the probe's exit + 50
#      ms), after.  The probe's time (fork to exit) and the daemon's CPU
#      use (schedstat) come from a watcher polling /proc every millisecond,
#      the download's time from the media simulator's request log, the
#      peak RSS from VmHWM.  bench/probe_delay_report.py prints it all.
#
# A chunk boundary meets the window only a few times a round (once for a
# probe alone), so the chunk figures sample the loop.  TRACE=1 runs the
# daemon under strace (seccomp-bpf: only epoll_wait, fork/wait, fsync and
# file-name calls stop it) and adds how long the loop stayed away from
# epoll_wait in each window: the most any chunk could have waited.
#
# usage: bench/probe_delay.sh [BUILD_DIR]   (tiktok-scheduler, -admin,
#        -probe; sched_seed is built there from bench/sched_seed.c if
#        missing)
# env:   ROUNDS_VARIANTS ("moovend faststart moovend:spool faststart:spool"),
#        UPLOAD_MB (100), CHUNK_DELAY_MS (250), BASE_CHUNKS (8),
#        PROBE_LEAD_MS (60), TRACE (0), KEEP (keep the work dir, but not
#        the spool), MEDIA_DIR (where big-*.mp4 are, or are made once),
#        SPOOL_DIR (a new directory for the spool, e.g. on another file
#        system than the store; removed at the end)

set -e

TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-${TT_BUILD:-$TOP/build}}
B=$(cd "$B" && pwd)
VARIANTS=${ROUNDS_VARIANTS:-moovend faststart moovend:spool faststart:spool}
UPLOAD_MB=${UPLOAD_MB:-100}
CHUNK_DELAY_MS=${CHUNK_DELAY_MS:-250}
BASE_CHUNKS=${BASE_CHUNKS:-8}
PROBE_LEAD_MS=${PROBE_LEAD_MS:-60}
TRACE=${TRACE:-0}
CHUNK=5242880
DIR=$(mktemp -d "${TMPDIR:-/tmp}/tt-probe-delay-XXXXXX")
SIMPID=
MSIMPID=
DPID=
SPID=
WPID=

cleanup() {
    [ -n "$WPID" ] && kill "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null
    # the daemon (under TRACE=1, strace's child) before strace
    [ -n "$SPID" ] && kill "$SPID" 2>/dev/null
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null \
        && wait "$SIMPID" 2>/dev/null
    [ -n "$MSIMPID" ] && kill "$MSIMPID" 2>/dev/null \
        && wait "$MSIMPID" 2>/dev/null
    # the spool and the upload file are gigabytes: never kept
    rm -rf "$DIR/spool" "$DIR/upload.mp4"
    [ -n "$KEEP" ] || rm -rf "$DIR"
    # a spool of its own (SPOOL_DIR) goes in any case: gigabytes
    [ -z "$SPOOL_DIR" ] || rm -rf "$SPOOL_DIR"
}
trap cleanup EXIT INT TERM

if [ -n "$SPOOL_DIR" ] && [ -e "$SPOOL_DIR" ]; then
    echo "SPOOL_DIR $SPOOL_DIR exists: give a new directory" >&2
    SPOOL_DIR=
    exit 1
fi

for f in tiktok-scheduler tiktok-admin tiktok-probe tiktok-fetch; do
    [ -x "$B/$f" ] || { echo "missing $B/$f" >&2; exit 1; }
done

if [ ! -x "$B/sched_seed" ]; then
    ${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -I"$TOP/core" -o "$B/sched_seed" \
        "$TOP/bench/sched_seed.c" "$B/libttcore.a" -llmdb -lyajl -lcrypto -lm
fi

if [ "$TRACE" = 1 ]; then
    command -v strace > /dev/null \
        || { echo "TRACE=1 needs strace" >&2; exit 1; }
fi

now() { python3 -c 'import time; print("%.6f" % time.time())'; }

echo "== probe delay benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)," \
     "$(nproc) CPUs, $(uname -r)"

# ---- 1. the media ---------------------------------------------------------

MD=${MEDIA_DIR:-$DIR/media}
mkdir -p "$MD"

if [ ! -s "$MD/big-moovend.mp4" ] || [ ! -s "$MD/big-faststart.mp4" ]; then
    t0=$(now)
    # random pictures do not compress: lossless H.264 keeps ~2 MB a frame
    ffmpeg -nostdin -v error -y -f rawvideo -pix_fmt yuv420p -s 720x1280 \
        -r 30 -i /dev/urandom \
        -f lavfi -i sine=frequency=440:sample_rate=44100 \
        -t 4 -c:v libx264 -preset ultrafast -qp 0 -pix_fmt yuv420p \
        -c:a aac -b:a 64k -shortest "$MD/clip.mp4"
    for i in 1 2 3 4; do echo "file 'clip.mp4'"; done > "$MD/list.txt"
    ffmpeg -nostdin -v error -y -f concat -safe 0 -i "$MD/list.txt" -c copy \
        "$MD/big-moovend.mp4"
    ffmpeg -nostdin -v error -y -i "$MD/big-moovend.mp4" -c copy \
        -movflags +faststart "$MD/big-faststart.mp4"
    rm -f "$MD/clip.mp4" "$MD/list.txt"
    echo "media made in $(python3 -c "print('%.1f' % ($(now) - $t0))") s"
fi

for v in moovend faststart; do
    f="$MD/big-$v.mp4"
    python3 - "$f" "$B/tiktok-probe" <<'EOF'
import json, os, struct, subprocess, sys, time
f = sys.argv[1]
size = os.path.getsize(f)
atoms, off = [], 0
with open(f, "rb") as fh:
    while off < size:
        fh.seek(off)
        h = fh.read(16)
        n, typ = struct.unpack(">I4s", h[:8])
        if n == 1:
            n = struct.unpack(">Q", h[8:16])[0]
        atoms.append("%s@%d" % (typ.decode(), off))
        off += n
best = None
for i in range(3):
    t = time.time()
    out = subprocess.run([sys.argv[2], f, "video"], capture_output=True).stdout
    d = (time.time() - t) * 1000
    best = d if best is None else min(best, d)
r = json.loads(out)
i = r.get("info") or {}
print("%s: %d bytes, atoms %s; probe ok=%s %dx%d %s %d ms, alone "
      "(page cache warm): %.0f ms" % (os.path.basename(f), size,
      " ".join(atoms), r.get("ok"), i.get("width", 0), i.get("height", 0),
      i.get("video_codec"), i.get("duration_ms", 0), best))
EOF
done

# ---- 2. simulators, store, daemon -------------------------------------------

start_sim() {   # name, extra args
    python3 "$TOP/t/sim/tiktok_sim.py" --port 0 --client-key bench \
        --client-secret bench-secret --die-with-parent $2 \
        > "$DIR/$1.out" 2> "$DIR/$1.log" &
}

start_sim sim ""
SIMPID=$!
start_sim msim "--media-dir $MD"
MSIMPID=$!

for i in $(seq 100); do
    grep -q "^listening on" "$DIR/sim.out" 2>/dev/null \
        && grep -q "^listening on" "$DIR/msim.out" 2>/dev/null && break
    sleep 0.1
done

SIM=http://$(sed -n 's/^listening on \([0-9.:]*\).*/\1/p' "$DIR/sim.out")
MSIM=http://$(sed -n 's/^listening on \([0-9.:]*\).*/\1/p' "$DIR/msim.out")

curl -sf -X POST "$SIM/__sim/config" -d '{"processing_delay": 0.2,
    "daily_post_cap": 100000, "upload_url_ttl": 36000}' > /dev/null
curl -sf -X POST "$SIM/__sim/faults" -d "{\"endpoint\": \"upload\",
    \"action\": \"delay\", \"ms\": $CHUNK_DELAY_MS, \"count\": -1}" > /dev/null

CREATOR=$(curl -sf -X POST "$SIM/__sim/users" -d '{"account_private": true}' \
    | python3 -c 'import json, sys; d = json.load(sys.stdin);
print(d["open_id"], d["username"], d["access_token"], d["refresh_token"])')
set -- $CREATOR

SP=${SPOOL_DIR:-$DIR/spool}
mkdir -p "$DIR/store" "$SP"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DIR/key.hex"
printf bench-secret > "$DIR/secret"
"$B/sched_seed" "$DIR/store" config api_base="$SIM" \
    wake_socket="$DIR/wake.sock" spool_dir="$SP" \
    client_key=bench client_secret_file="$DIR/secret" \
    token_key_file="$DIR/key.hex" chunk_size=$CHUNK max_uploads=8 \
    max_lateness_ms=600000 refresh_margin_ms=60000 spool_quota=0 \
    allow_private_media=1
WS=$("$B/tiktok-admin" -s "$DIR/store" workspace create bench)
PG=$("$B/tiktok-admin" -s "$DIR/store" group list "$WS" | cut -f1)
PROF=$("$B/tiktok-admin" -s "$DIR/store" -k "$DIR/key.hex" profile add "$PG" \
    --open-id "$1" --username "$2" --name "$2" --access-token "$3" \
    --refresh-token "$4" --expires-in 86400 --refresh-expires-in 31536000 \
    --scope video.publish,video.upload)

head -c $((UPLOAD_MB * 1000000)) /dev/urandom > "$DIR/upload.mp4"

if [ "$TRACE" = 1 ]; then
    TRACED=epoll_wait,epoll_pwait,clone,clone3,fork,vfork,wait4,execve
    TRACED=$TRACED,fsync,fdatasync,msync,rename,renameat,renameat2,openat
    TRACED=$TRACED,unlink,unlinkat
    strace -f --seccomp-bpf -ttt -T -o "$DIR/trace" \
        -e trace="$TRACED" \
        "$B/tiktok-scheduler" -s "$DIR/store" -v 2> "$DIR/sched.log" &
    DPID=$!
    # the daemon is strace's child
    for i in $(seq 100); do
        SPID=$(cut -d' ' -f1 "/proc/$DPID/task/$DPID/children" 2>/dev/null)
        [ -n "$SPID" ] && break
        sleep 0.05
    done
else
    "$B/tiktok-scheduler" -s "$DIR/store" -v 2> "$DIR/sched.log" &
    DPID=$!
    SPID=$DPID
fi

echo "$SPID" > "$DIR/daemon.pid"

# the watcher: the daemon's probe children (start to exit), polled every
# ms, and the daemon's schedstat (time on CPU, time runnable but waiting)
# every 10
python3 - "$SPID" "$DIR" <<'PYEOF' &
import os, signal, sys, time
pid, d = sys.argv[1], sys.argv[2]
seen, st = {}, []
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
kids = "/proc/%s/task/%s/children" % (pid, pid)
ss = "/proc/%s/schedstat" % pid
n = 0
while not stop:
    try:
        with open(kids) as f:
            ks = f.read().split()
        if n % 10 == 0:
            with open(ss) as f:
                run, wait = f.read().split()[:2]
            st.append("%.6f %s %s" % (time.time(), run, wait))
    except OSError:
        break
    t = time.time()
    for k in ks:
        try:
            with open("/proc/%s/comm" % k) as f:
                comm = f.read().strip()
        except OSError:
            comm = None
        if k not in seen:
            seen[k] = [t, t, comm]
        else:
            seen[k][1] = t
            seen[k][2] = comm or seen[k][2]
    n += 1
    time.sleep(0.001)
# the probes only: the downloads run in children too (tiktok-fetch)
with open(os.path.join(d, "children"), "w") as f:
    for k, (a, b, comm) in sorted(seen.items(), key=lambda x: x[1][0]):
        if comm == "tiktok-probe":
            f.write("%s %.6f %.6f\n" % (k, a, b))
with open(os.path.join(d, "schedstat"), "w") as f:
    f.write("\n".join(st) + "\n")
PYEOF
WPID=$!

for i in $(seq 100); do
    [ -S "$DIR/wake.sock" ] && break
    sleep 0.1
done

wake() {
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"w", sys.argv[1])' "$DIR/wake.sock"
}

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

post_json() {   # scheduled_at (epoch s), media URL
    echo "{\"post\": {\"body\": \"bench\", \"scheduled_at\": \"$(iso "$1")\"},
        \"media\": [\"$2\"],
        \"platforms\": {\"tiktok\": {\"privacy_status\": \"SELF_ONLY\"}}}"
}

# ---- 3. the rounds -----------------------------------------------------

echo "CHUNK_DELAY_MS=$CHUNK_DELAY_MS" > "$DIR/conf"
: > "$DIR/rounds"
R=0
for v in $VARIANTS; do
    R=$((R + 1))
    f=big-${v%:spool}.mp4
    URL="$MSIM/media/$f?round=$R"

    PREP=-
    SPOOLED=-
    if [ "$v" != "${v%:spool}" ]; then
        # probe only: the URL's file is in the spool already (the daemon
        # probes it without a download), and out of the page cache: the
        # probe reads it from the disk.  It waits under a name that is not
        # the spool's (the sweep would remove a file no post needs) and
        # takes its name, fresh, just before the post is made.
        PREP=$SP/prep-$R.tmp
        SPOOLED=$SP/$(printf %s "$URL" | sha256sum | cut -d' ' -f1)
        ln "$MD/$f" "$PREP" 2>/dev/null || cp "$MD/$f" "$PREP"
        python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.fsync(fd)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$PREP"
    fi

    # the upload, due in 2 s
    UP=$("$B/sched_seed" "$DIR/store" post "$WS" "$PROF" \
        "$(post_json $(( $(date +%s) + 2 )) \
                     "http://127.0.0.1/upload-$R.mp4")" \
        "$DIR/upload.mp4")
    wake

    # the baseline window: BASE_CHUNKS chunks of this round's upload; then
    # the media post, PROBE_LEAD_MS before the next chunk's answer is due
    # (so that the probe runs across a chunk boundary), and a wake-up
    python3 - "$SIM" "$R" "$BASE_CHUNKS" "$CHUNK_DELAY_MS" "$PROBE_LEAD_MS" \
        "$B/sched_seed" "$DIR/store" "$WS" "$PROF" "$DIR/wake.sock" \
        "$(post_json $(( $(date +%s) + 86400 )) "$URL")" "$PREP" "$SPOOLED" \
        > "$DIR/round.out" <<'PYEOF'
import json, os, socket, subprocess, sys, time, urllib.request
sim, r, base, delay, lead, seed, store, ws, prof, sock, body, prep, \
    spooled = sys.argv[1:]
r, base, delay, lead = int(r), int(base), int(delay), int(lead)
end = time.time() + 120
while True:
    if time.time() > end:
        sys.exit("timeout waiting for the upload's first chunks")
    d = json.load(urllib.request.urlopen(sim + "/__sim/ledger"))
    ps = d["publishes"]
    if len(ps) >= r and len(ps[r - 1]["chunk_times"]) >= base:
        head = ps[r - 1]["chunk_times"][-1]["head"]
        break
    time.sleep(0.01)
# the next answer comes about `delay` ms after the last head
at = head + (delay - lead) / 1000.0
while at < time.time() + 0.02:
    at += (delay + 5) / 1000.0
time.sleep(at - time.time())
tc = time.time()
if prep != "-":
    os.utime(prep)
    os.rename(prep, spooled)
mp = subprocess.run([seed, store, "post", ws, prof, body], check=True,
                    capture_output=True, text=True).stdout.strip()
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"w", sock)
print(mp, "%.6f" % tc)
PYEOF
    read MP TC < "$DIR/round.out"
    echo "$R $v $UP $MP $TC" >> "$DIR/rounds"

    # until the media is probed and the upload is done
    python3 - "$SIM" "$R" "$B/sched_seed" "$DIR/store" "$MP" <<'PYEOF'
import json, subprocess, sys, time, urllib.request
sim, r, seed, store, mp = sys.argv[1:]
end = time.time() + 600
media = upload = None
while time.time() < end and (media is None or upload is None):
    if media is None:
        out = subprocess.run([seed, store, "show", mp], capture_output=True,
                             text=True).stdout
        try:
            m = json.loads(out)["media"][0]
            if m["status"] != "pending":
                media = m["status"]
                if m["status"] != "processed":
                    print("media: %s" % json.dumps(m), file=sys.stderr)
        except (ValueError, KeyError, IndexError):
            pass
    if upload is None:
        d = json.load(urllib.request.urlopen(sim + "/__sim/ledger"))
        p = d["publishes"][int(r) - 1]
        if p["status"] in ("PUBLISH_COMPLETE", "FAILED"):
            upload = p["status"]
    time.sleep(0.1)
if media != "processed" or upload != "PUBLISH_COMPLETE":
    sys.exit("round %s: media %s, upload %s" % (r, media, upload))
PYEOF
done

awk '/VmHWM/ {print $2}' "/proc/$SPID/status" > "$DIR/rss"
kill "$WPID"; wait "$WPID" || true; WPID=
# under strace the daemon is stopped, and strace then ends by itself
kill "$SPID"; wait "$DPID" || true; DPID=; SPID=

curl -sf "$SIM/__sim/ledger" > "$DIR/ledger.json"
curl -sf "$MSIM/__sim/requests?endpoint=media" > "$DIR/media.json"

# ---- 4. the figures ----------------------------------------------------

python3 "$TOP/bench/probe_delay_report.py" "$DIR"

[ -n "$KEEP" ] && echo "work dir kept: $DIR"
exit 0
