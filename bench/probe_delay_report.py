#!/usr/bin/env python3
#
# Copyright (C) the ngx_tiktok authors.
# The figures of bench/probe_delay.sh, from its work directory (KEEP=1
# keeps it: this can be run again on it).
#
# usage: bench/probe_delay_report.py DIR
#
# DIR holds: rounds ("R VARIANT UPLOAD_POST MEDIA_POST T_CREATED"), the
# TikTok simulator's ledger (ledger.json, with chunk_times), the media
# simulator's request log (media.json), the watcher's children ("PID
# T_FIRST_SEEN T_LAST_SEEN") and schedstat ("T RUN_NS WAIT_NS"), rss
# (VmHWM, kB), conf (CHUNK_DELAY_MS), sched.log (-v), and with TRACE=1
# the strace output (trace).  Times are wall-clock seconds.

import json
import os
import re
import sys


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")


def stats(xs):
    if not xs:
        return "n=0"
    return "n=%d p50=%.1f p99=%.1f max=%.1f" % (len(xs), pct(xs, .5),
                                                 pct(xs, .99), max(xs))


def ms(x):
    return x * 1000.0


def load(d):
    r = {}
    r["rounds"] = [l.split() for l in open(os.path.join(d, "rounds"))]
    r["ledger"] = json.load(open(os.path.join(d, "ledger.json")))["publishes"]
    r["media"] = [x for x in json.load(open(os.path.join(d, "media.json")))
                  ["requests"] if x["method"] == "GET"]
    r["kids"] = [(float(a), float(b)) for _, a, b in
                 (l.split() for l in open(os.path.join(d, "children")))]
    r["sched"] = [tuple(float(x) for x in l.split())
                  for l in open(os.path.join(d, "schedstat"))]
    r["rss"] = int(open(os.path.join(d, "rss")).read().strip() or 0)
    r["conf"] = dict(l.strip().split("=", 1)
                     for l in open(os.path.join(d, "conf")) if "=" in l)
    return r


def cpu(sched, t0, t1):
    """The daemon's share of a CPU and its run-queue wait over [t0, t1],
    from the samples nearest inside."""
    s = [x for x in sched if t0 <= x[0] <= t1]
    if len(s) < 2 or s[-1][0] - s[0][0] < 0.02:
        return "n/a"
    dt = s[-1][0] - s[0][0]
    run = (s[-1][1] - s[0][1]) / 1e9 / dt
    wait = (s[-1][2] - s[0][2]) / 1e9 / dt
    return "on CPU %3.0f%%, runnable but waiting %3.0f%%" % (run * 100,
                                                            wait * 100)


def rounds(r):
    """Per round: its windows and chunk figures."""
    out = []
    mi = 0
    for i, (rn, variant, up, mp, tc) in enumerate(r["rounds"]):
        tc = float(tc)
        ct = r["ledger"][i]["chunk_times"]
        x = {"round": rn, "variant": variant, "tc": tc, "ct": ct,
             "chunk_size": r["ledger"][i]["chunk_size"]}
        if not variant.endswith(":spool"):
            dl = r["media"][mi]
            mi += 1
            x["dl"] = (dl["time"], dl["time"] + dl["duration"])
        pr = [k for k in r["kids"] if k[0] >= tc]
        x["probe"] = pr[0] if pr else (float("nan"), float("nan"))
        # from the post's creation to the probe's exit (+ its record and
        # commit, a few ms: 50 ms more)
        x["w"] = (tc, x["probe"][1] + 0.05)
        w0, w1 = x["w"]
        x["turn"] = {"base": [], "during": [], "after": []}
        x["head"] = {"base": [], "during": [], "after": []}
        x["body"] = {"base": [], "during": [], "after": []}
        for a, b in zip(ct, ct[1:]):
            if b["head"] < w0:
                k = "base"
            elif a["answered"] <= w1 and b["head"] >= w0:
                k = "during"
            else:
                k = "after"
            x["turn"][k].append(ms(b["head"] - a["answered"]))
            x["head"][k].append(ms(b["head"] - a["head"]))
        for c in ct:
            if c["body_end"] < w0:
                k = "base"
            elif c["body_start"] <= w1:
                k = "during"
            else:
                k = "after"
            x["body"][k].append(ms(c["body_end"] - c["body_start"]))
        out.append(x)
    return out


def report(d):
    r = load(d)
    rs = rounds(r)
    delay = int(r["conf"].get("CHUNK_DELAY_MS", "0"))

    for x in rs:
        tc = x["tc"]
        p0, p1 = x["probe"]
        print("-- round %s: %s, %d chunks of %d bytes" % (
            x["round"], x["variant"], len(x["ct"]), x["chunk_size"]))
        if "dl" in x:
            d0, d1 = x["dl"]
            print("   post created -> download starts %.0f ms; download "
                  "%.0f ms; download end -> probe forked %.0f ms; probe "
                  "(fork to exit) %.0f ms; created -> probe exit %.0f ms"
                  % (ms(d0 - tc), ms(d1 - d0), ms(p0 - d1), ms(p1 - p0),
                     ms(p1 - tc)))
        else:
            print("   (file in the spool already: no download) post created "
                  "-> probe forked %.0f ms; probe (fork to exit) %.0f ms"
                  % (ms(p0 - tc), ms(p1 - p0)))
        print("   turnaround, answer flushed -> next chunk's head (ms):")
        for k, lab in (("base", "baseline"), ("during", "download+probe"
                                                 if "dl" in x else "probe"),
                       ("after", "after")):
            print("     %-16s %s" % (lab, stats(x["turn"][k])))
        print("   head-to-head gap of chunk PUTs (%d ms delay fault + "
              "transfer + turnaround), ms:" % delay)
        for k, lab in (("base", "baseline"), ("during", "download+probe"
                                                 if "dl" in x else "probe")):
            print("     %-16s %s" % (lab, stats(x["head"][k])))
        print("   chunk body transfer (5 MiB), ms: baseline %s; during %s"
              % (stats(x["body"]["base"]), stats(x["body"]["during"])))
        first = x["ct"][0]["head"] if x["ct"] else tc
        print("   daemon CPU: baseline %s" % cpu(r["sched"], first, tc))
        if "dl" in x:
            print("               download %s" % cpu(r["sched"], *x["dl"]))
        print("               probe    %s" % cpu(r["sched"], p0, p1))

    print("== summary")
    for kind, sel in (("download + probe of the 1 GB file",
                       [x for x in rs if "dl" in x]),
                      ("probe only (the 1 GB file in the spool already)",
                       [x for x in rs if "dl" not in x])):
        if not sel:
            continue
        base = sum((x["turn"]["base"] for x in sel), [])
        dur = sum((x["turn"]["during"] for x in sel), [])
        hb = sum((x["head"]["base"] for x in sel), [])
        hd = sum((x["head"]["during"] for x in sel), [])
        print("%s, %d rounds (%s):" % (kind, len(sel),
                                      " ".join(x["variant"] for x in sel)))
        print("  chunk turnaround, baseline:  %s ms" % stats(base))
        print("  chunk turnaround, during:    %s ms" % stats(dur))
        if dur and base:
            print("  extra delay of a chunk (max during - max baseline): "
                  "%.1f ms" % (max(dur) - max(base)))
        print("  head-to-head gap, baseline:  %s ms" % stats(hb))
        print("  head-to-head gap, during:    %s ms" % stats(hd))
        if hd and hb:
            print("  extra head-to-head gap (max during - max baseline): "
                  "%.1f ms" % (max(hd) - max(hb)))
        print("  probe (fork to exit), each round: %s ms" % " / ".join(
            "%.0f" % ms(x["probe"][1] - x["probe"][0]) for x in sel))
        if "dl" in sel[0]:
            print("  download, each round: %s ms" % " / ".join(
                "%.0f" % ms(x["dl"][1] - x["dl"][0]) for x in sel))
    print("daemon peak RSS (VmHWM): %.1f MB" % (r["rss"] / 1024.0))

    slow = {}
    for l in open(os.path.join(d, "sched.log")):
        m = re.search(r"(commit took|a round of steps took|the scan took) "
                      r"(\d+) ms", l)
        if m:
            slow.setdefault(m.group(1), []).append(int(m.group(2)))
    for k, v in slow.items():
        print("daemon -v: \"%s N ms\" (N > 5): %d times, max %d ms"
              % (k, len(v), max(v)))

    if os.path.exists(os.path.join(d, "trace")):
        trace(d, rs)


def trace(d, rs):
    """How long the loop was away from epoll_wait, from strace -ttt -T."""
    rx = re.compile(r"^(\d+)\s+(\d+\.\d+) (.*?)(?: <(\d+\.\d+)>)?$")
    calls, pend, main = [], {}, None
    for l in open(os.path.join(d, "trace")):
        m = rx.match(l.rstrip())
        if not m:
            continue
        pid, t, rest, dur = m.group(1), float(m.group(2)), m.group(3), \
            m.group(4)
        if main is None:
            main = pid
        if pid != main:
            continue
        if rest.startswith("<..."):
            # "<... NAME resumed>": the call began at its "unfinished" line
            name = rest.split()[1]
            if name in pend:
                t0, text = pend.pop(name)
                calls.append((t0, t0 + float(dur or 0), name, text))
            continue
        name = rest.split("(")[0]
        if "<unfinished" in rest:
            pend[name] = (t, rest)
            continue
        calls.append((t, t + float(dur or 0), name, rest))
    calls.sort()
    waits = [c for c in calls if c[2] in ("epoll_wait", "epoll_pwait")]
    # (busy time, from, to): the loop between two epoll_wait calls
    gaps = [(b[0] - a[1], a[1], b[0]) for a, b in zip(waits, waits[1:])]

    def window(t0, t1):
        return [g for g in gaps if g[2] >= t0 and g[1] <= t1]

    print("== the loop, from strace (TRACE=1): time away from epoll_wait, "
          "ms")
    for x in rs:
        first = x["ct"][0]["head"] if x["ct"] else x["tc"]
        wins = [("baseline", first, x["tc"])]
        if "dl" in x:
            wins.append(("download", x["dl"][0], x["dl"][1]))
        wins.append(("probe", x["probe"][0], x["probe"][1] + 0.05))
        print("-- round %s (%s)" % (x["round"], x["variant"]))
        for lab, t0, t1 in wins:
            g = window(t0, t1)
            busy = sum(y[0] for y in g)
            print("   %-9s iterations=%d max=%.1f p50=%.2f busy %.0f%% of "
                  "%.0f ms" % (lab, len(g), ms(max(g)[0]) if g else 0,
                               ms(pct([y[0] for y in g], .5)) if g else 0,
                               100 * busy / max(t1 - t0, 1e-9), ms(t1 - t0)))
        # traced calls that took long, from the post's creation on
        t0, t1 = x["tc"], x["probe"][1] + 0.05
        for c in calls:
            if t0 <= c[0] <= t1 and c[1] - c[0] > 0.005 \
                    and c[2] not in ("epoll_wait", "epoll_pwait"):
                print("     slow: +%.3f s after the post's creation, %s "
                      "%.1f ms" % (c[0] - x["tc"], c[2], ms(c[1] - c[0])))
        # what the loop did in the probe window, in order
        t0, t1 = x["probe"][0] - 0.01, x["probe"][1] + 0.05
        for c in calls:
            if t0 <= c[0] <= t1 and c[2] not in ("epoll_wait", "epoll_pwait"):
                print("     +%.1f ms %s %.2f ms: %s" % (
                    ms(c[0] - x["probe"][0]), c[2], ms(c[1] - c[0]),
                    c[3][:90]))


if __name__ == "__main__":
    report(sys.argv[1])
