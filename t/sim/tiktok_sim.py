#!/usr/bin/env python3
#
# Copyright (C) the ngx_tiktok authors.
# A strict local TikTok simulator: OAuth v2, Content Posting, Display API,
# a loopback media host and a control API (see t/sim/README.md).
#
# The rules come from shared/tiktok-api.md (section numbers below refer to
# it).  Where that document says UNCERTAIN the simulator picks the stricter
# reading and makes it configurable, so that a client that passes here has
# the best chance of passing against TikTok.
#
# Python 3.11 standard library only.

import argparse
import collections
import hashlib
import hmac
import html
import http.client
import http.server
import json
import mimetypes
import os
import secrets
import select
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import uuid


ALL_SCOPES = ("user.info.basic", "user.info.profile", "user.info.stats",
              "video.list", "video.upload", "video.publish")
PRIVACY_ENUM = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS",
                "FOLLOWER_OF_CREATOR", "SELF_ONLY")
PUBLIC_OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
PRIVATE_OPTIONS = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS",
                   "SELF_ONLY"]
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
PIECE = 1024 * 1024
BODY_MAX = 1024 * 1024

USER_FIELDS = {
    "open_id": "user.info.basic", "union_id": "user.info.basic",
    "avatar_url": "user.info.basic", "avatar_url_100": "user.info.basic",
    "avatar_large_url": "user.info.basic", "display_name": "user.info.basic",
    "bio_description": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "is_verified": "user.info.profile", "username": "user.info.profile",
    "follower_count": "user.info.stats", "following_count": "user.info.stats",
    "likes_count": "user.info.stats", "video_count": "user.info.stats",
}
VIDEO_FIELDS = ("id", "create_time", "cover_image_url", "share_url",
                "video_description", "duration", "height", "width", "title",
                "embed_html", "embed_link", "like_count", "comment_count",
                "share_count", "view_count", "is_aigc")

FAULT_ENDPOINTS = ("video_init", "inbox_init", "content_init",
                   "creator_info", "status", "token", "revoke", "upload",
                   "authorize", "cancel", "user_info", "video_list",
                   "video_query", "media", "*")
FAULT_ACTIONS = ("status", "drop", "delay", "fail_publish")

DEFAULT_RATE_LIMITS = {
    "video_init": 6, "inbox_init": 6, "content_init": 6,
    "creator_info": 20, "status": 30, "cancel": 30,
    "user_info": 600, "video_list": 600, "video_query": 600,
}

# Every key a test may set with POST /__sim/config; unknown keys are
# rejected so that a typo does not silently test nothing.
DEFAULT_CONFIG = {
    "client_key": "sim_client_key",
    "client_secret": "sim_client_secret",
    "access_ttl": 86400,
    "refresh_ttl": 31536000,
    "rotate_refresh": True,
    "code_ttl": 600,
    "token_error_http_status": 200,
    "pkce_encoding": "hex",             # hex | base64url | any
    "redirect_uris": None,              # None: any URI the rules allow
    "app_scopes": list(ALL_SCOPES),
    "deny_authorize": False,
    "consent_page": False,              # True: a page the user submits
    "default_open_id": None,
    "audited": True,
    "active_user_cap": None,            # None: 5 if unaudited, else none
    "daily_post_cap": 15,
    "inbox_pending_cap": 5,
    "chunk_min": 5 * 1024 * 1024,
    "chunk_max": 64000000,
    "last_chunk_max": 128000000,
    "chunk_count_max": 1000,
    "video_size_max": 4 * 1024 * 1024 * 1024,
    "single_chunk_must_be_whole": True,
    "reject_multi_chunk": False,
    "inbox_post_info": "ignore",        # ignore | reject
    "require_brand_toggles": True,
    "reject_branded_self_only": True,
    "invalid_params_code": "invalid_params",
    "upload_url_ttl": 3600,
    "upload_base": None,                # None: http://HOST:PORT
    "processing_delay": 1.0,
    "moderation_delay": 0.0,
    "allow_http_images": True,          # http only from loopback hosts
    "allow_http_videos": True,
    "verified_domains": ["127.0.0.1", "localhost"],
    "verified_url_prefixes": [],
    "check_photo_format": True,
    "photo_size_max": 20 * 1024 * 1024,
    "media_checks": False,
    "photo_app_version_too_old": False,
    "pull_timeout": 30.0,
    "rate_limits": dict(DEFAULT_RATE_LIMITS),
    "webhook_url": None,
    "webhook_direct_publish_type": "DIRECT_POST",
    "request_log_size": 20000,
}


def log_id():
    return (time.strftime("%Y%m%d%H%M%S", time.gmtime())
            + secrets.token_hex(10).upper())


def utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


def is_int(v):
    return type(v) is int


def is_bool(v):
    return type(v) is bool


def mint(prefix):
    # the shape of real tokens: "act.<hex+alnum>!<digits>.va"
    return "%s.%s%s!%04d.va" % (prefix, secrets.token_hex(16),
                                secrets.token_urlsafe(18).replace("-", "x")
                                .replace("_", "y"),
                                secrets.randbelow(10000))


def mint_code():
    # codes carry characters that must be percent-decoded (section 1.1)
    return "%s*3!%04d.va" % (secrets.token_urlsafe(36),
                             secrets.randbelow(10000))


def strict_json(raw):
    def bad_constant(name):
        raise ValueError("invalid JSON constant " + name)
    return json.loads(raw.decode("utf-8"), parse_constant=bad_constant)


def media_type_of(ctype):
    return (ctype or "").split(";")[0].strip().lower()


class Resp:
    """A response built by a handler and written by the dispatcher, so that
    a fault can still drop it after the request had its effect."""

    def __init__(self, status, body=b"", ctype="application/json",
                 headers=None, stream=None, length=None):
        self.status = status
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.body = body
        self.ctype = ctype
        self.headers = headers or []
        self.stream = stream
        self.length = length
        self.detail = None


class Sim:
    """All state, guarded by one lock.  Nothing here does network I/O while
    holding the lock."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.port = 0
        self.host = args.host
        self.state_file = args.state_file
        self.media_dir = args.media_dir
        self.dirty = False
        self.webhook_q = collections.deque()
        self.webhook_cv = threading.Condition(self.lock)
        self.reset()
        if self.state_file and os.path.exists(self.state_file):
            self.load()

    # ---- state ------------------------------------------------------------

    def reset(self):
        with self.lock:
            cfg = json.loads(json.dumps(DEFAULT_CONFIG))
            if self.args.client_key:
                cfg["client_key"] = self.args.client_key
            if self.args.client_secret:
                cfg["client_secret"] = self.args.client_secret
            self.config = cfg
            self.clock_offset = 0.0
            self.users = {}
            self.access = {}
            self.refresh = {}
            self.codes = {}
            self.consents = {}
            self.publishes = {}
            self.order = []
            self.uploads = {}
            self.active = set()
            self.timed = set()
            self.videos = {}
            self.faults = []
            self.windows = {}
            self.seq = int(time.time() * 1000)
            self.counters = {"requests": collections.Counter(),
                             "rate_limited": collections.Counter(),
                             "faults_fired": collections.Counter(),
                             "status_codes": collections.Counter(),
                             "paths": collections.Counter()}
            self.reqlog = collections.deque(
                maxlen=cfg["request_log_size"])
            self.first_call = {}
            self.webhooks = []
            self.webhook_q.clear()
            self.dirty = True

    def now(self):
        return time.time() + self.clock_offset

    def next_seq(self):
        self.seq += 1
        return self.seq

    def save(self):
        if not self.state_file:
            return
        with self.lock:
            pubs = []
            for pid in self.order:
                p = self.publishes[pid]
                d = {k: v for k, v in p.items() if k != "_hash"}
                d["_sha256_final"] = p["_hash"].hexdigest()
                pubs.append(d)
            state = {"config": self.config, "clock_offset": self.clock_offset,
                     "users": self.users,
                     "access": {k: dict(v, scopes=sorted(v["scopes"]))
                                for k, v in self.access.items()},
                     "refresh": {k: dict(v, scopes=sorted(v["scopes"]))
                                 for k, v in self.refresh.items()},
                     "publishes": pubs, "videos": self.videos,
                     "seq": self.seq}
            data = json.dumps(state)
            self.dirty = False
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(data)
        os.replace(tmp, self.state_file)

    def load(self):
        with open(self.state_file) as f:
            st = json.load(f)
        with self.lock:
            self.config.update(st.get("config", {}))
            self.clock_offset = st.get("clock_offset", 0.0)
            self.users = st.get("users", {})
            self.access = {k: dict(v, scopes=set(v["scopes"]))
                           for k, v in st.get("access", {}).items()}
            self.refresh = {k: dict(v, scopes=set(v["scopes"]))
                            for k, v in st.get("refresh", {}).items()}
            self.videos = st.get("videos", {})
            self.seq = max(self.seq, st.get("seq", 0))
            for d in st.get("publishes", []):
                final = d.pop("_sha256_final", None)
                d["_hash"] = hashlib.sha256()
                d["sha256_restored"] = final
                d["_busy"] = False
                if (d["source"] == "FILE_UPLOAD"
                        and d["bytes_received"] < (d["video_size"] or 0)):
                    # the hash state of a half upload cannot be restored:
                    # its upload URL dies with the old process
                    d["_url_expires_at"] = 0
                self.publishes[d["publish_id"]] = d
                self.order.append(d["publish_id"])
                if d.get("_upload_id"):
                    self.uploads[d["_upload_id"]] = d
                if d["status"] not in ("PUBLISH_COMPLETE", "FAILED"):
                    self.active.add(d["publish_id"])
                    self.timed.add(d["publish_id"])

    # ---- users and tokens -------------------------------------------------

    def make_user(self, spec):
        oid = spec.get("open_id") or str(uuid.uuid4())
        u = self.users.get(oid)
        if u is None:
            n = len(self.users) + 1
            u = {"open_id": oid, "union_id": str(uuid.uuid4()),
                 "username": "sim_user_%d" % n,
                 "nickname": "Sim User %d" % n,
                 "privacy_level_options": None, "account_private": False,
                 "comment_disabled": False, "duet_disabled": False,
                 "stitch_disabled": False,
                 "max_video_post_duration_sec": 600, "banned": False,
                 "spam": False, "daily_post_cap": None,
                 "scopes": list(ALL_SCOPES), "avatar_url":
                 "https://p16-sign-va.tiktokcdn.com/sim/%s.jpeg" % oid,
                 "bio_description": "", "is_verified": False,
                 "follower_count": 0, "following_count": 0,
                 "likes_count": 0}
            self.users[oid] = u
        self.update_user(u, spec)
        self.dirty = True
        return u

    def update_user(self, u, spec):
        for k, v in spec.items():
            if k == "open_id":
                continue
            if k not in u:
                raise ValueError("unknown user field " + k)
            if k == "scopes" and isinstance(v, str):
                v = [s for s in v.split(",") if s]
            u[k] = v
        self.dirty = True

    def user_options(self, u):
        if not self.config["audited"]:
            return ["SELF_ONLY"]
        if u["privacy_level_options"] is not None:
            return list(u["privacy_level_options"])
        return list(PRIVATE_OPTIONS if u["account_private"]
                    else PUBLIC_OPTIONS)

    def issue_tokens(self, open_id, scopes, refresh_expires_at=None):
        now = self.now()
        cfg = self.config
        at = mint("act")
        rt = mint("rft")
        if refresh_expires_at is None:
            refresh_expires_at = now + cfg["refresh_ttl"]
        self.access[at] = {"open_id": open_id, "scopes": set(scopes),
                           "expires_at": now + cfg["access_ttl"],
                           "issued_at": now}
        self.refresh[rt] = {"open_id": open_id, "scopes": set(scopes),
                            "expires_at": refresh_expires_at,
                            "issued_at": now}
        self.dirty = True
        return {"access_token": at, "expires_in": int(cfg["access_ttl"]),
                "open_id": open_id,
                "refresh_expires_in": max(0, int(refresh_expires_at - now)),
                "refresh_token": rt,
                "scope": ",".join(s for s in ALL_SCOPES if s in scopes),
                "token_type": "Bearer"}

    def revoke_user(self, open_id, reason):
        for d in (self.access, self.refresh):
            for k in [k for k, v in d.items() if v["open_id"] == open_id]:
                del d[k]
        for pid in list(self.active):
            p = self.publishes[pid]
            if (p["open_id"] == open_id
                    and p["status"].startswith("PROCESSING")):
                self.fail(p, "auth_removed")
        self.webhook("authorization.removed", open_id, {"reason": reason})
        self.dirty = True

    # ---- rate limits ------------------------------------------------------

    def rate_ok(self, token, ep):
        limit = self.config["rate_limits"].get(ep)
        if not limit:
            return True
        now = self.now()
        w = self.windows.setdefault((token, ep), collections.deque())
        while w and w[0] <= now - 60:
            w.popleft()
        if len(w) >= limit:
            self.counters["rate_limited"][ep] += 1
            return False
        w.append(now)
        return True

    # ---- faults -----------------------------------------------------------

    def add_fault(self, r):
        if not isinstance(r, dict):
            raise ValueError("a fault rule is an object")
        ep = r.get("endpoint", "*")
        act = r.get("action")
        if ep not in FAULT_ENDPOINTS:
            raise ValueError("unknown endpoint %r" % ep)
        if act not in FAULT_ACTIONS:
            raise ValueError("unknown action %r" % act)
        rule = {"endpoint": ep, "action": act,
                "count": r.get("count", 1), "after": r.get("after", 0),
                "open_id": r.get("open_id"), "_seen": 0, "_fired": 0}
        if not is_int(rule["count"]) or not is_int(rule["after"]):
            raise ValueError("count and after are integers")
        if act == "status":
            st = r.get("http_status", r.get("status", 500))
            if not is_int(st) or st < 200 or st > 599:
                raise ValueError("http_status must be 200..599")
            rule["http_status"] = st
            rule["code"] = r.get("code", "internal_error")
            rule["message"] = r.get("message", "injected fault")
        elif act == "delay":
            ms = r.get("ms", r.get("delay_ms", 1000))
            if not isinstance(ms, (int, float)) or ms < 0:
                raise ValueError("delay needs ms >= 0")
            rule["ms"] = ms
        elif act == "drop":
            rule["apply"] = bool(r.get("apply", ep == "upload"))
        elif act == "fail_publish":
            rule["fail_reason"] = r.get("fail_reason", "internal")
        self.faults.append(rule)
        return rule

    def take_fault(self, ep, open_id):
        with self.lock:
            for rule in self.faults:
                if rule["endpoint"] != "*" and rule["endpoint"] != ep:
                    continue
                if rule["endpoint"] == "*" and ep == "media":
                    continue
                if rule["open_id"] and rule["open_id"] != open_id:
                    continue
                rule["_seen"] += 1
                if rule["_seen"] <= rule["after"]:
                    continue
                rule["_fired"] += 1
                if rule["count"] >= 0 and rule["_fired"] >= rule["count"]:
                    self.faults.remove(rule)
                self.counters["faults_fired"][ep] += 1
                return dict(rule)
        return None

    # ---- publishes --------------------------------------------------------

    def new_publish(self, kind, open_id, flow, source, **kw):
        n = self.next_seq()
        prefix = {"direct_file": "v_pub_file~v2-1.",
                  "direct_url": "v_pub_url~v2.",
                  "inbox_file": "v_inbox_file~v2.",
                  "inbox_url": "v_inbox_url~v2.",
                  "photo_direct": "p_pub_url~v2.",
                  "photo_upload": "p_inbox_url~v2."}[kind]
        now = self.now()
        p = {"publish_id": prefix + str(n), "open_id": open_id,
             "flow": flow, "source": source,
             "status": ("PROCESSING_UPLOAD" if source == "FILE_UPLOAD"
                        else "PROCESSING_DOWNLOAD"),
             "fail_reason": None, "video_size": None, "chunk_size": None,
             "total_chunk_count": None, "chunks_received": 0,
             "bytes_received": 0, "downloaded_bytes": 0,
             "post_info": None, "post_mode": None, "photo_images": None,
             "photo_cover_index": None, "video_url": None, "post_ids": [],
             "created_at": now, "completed_at": None, "upload_url": None,
             "upload_expires_at": None, "content_types": [],
             "chunk_times": [],
             "_hash": hashlib.sha256(), "_busy": False, "_upload_id": None,
             "_upload_token": None, "_url_expires_at": None,
             "_ready_at": None, "_ids_at": None, "_fail": None,
             "_cancelled": False, "_head": ""}
        p.update(kw)
        self.publishes[p["publish_id"]] = p
        self.order.append(p["publish_id"])
        self.active.add(p["publish_id"])
        self.dirty = True
        return p

    def fail(self, p, reason):
        p["status"] = "FAILED"
        p["fail_reason"] = reason
        p["completed_at"] = self.now()
        self.active.discard(p["publish_id"])
        self.webhook("post.publish.failed", p["open_id"],
                     {"publish_id": p["publish_id"], "reason": reason,
                      "publish_type": self.publish_type(p)})
        self.dirty = True

    def publish_type(self, p):
        if p["flow"] in ("inbox", "photo_upload"):
            return "INBOX_SHARE"
        return self.config["webhook_direct_publish_type"]

    def privacy_of(self, p):
        return (p["post_info"] or {}).get("privacy_level")

    def advance(self, p):
        """Moves one publish along its lifecycle by the sim clock."""
        now = self.now()
        st = p["status"]
        if st.startswith("PROCESSING") and p["_ready_at"] is not None \
                and now >= p["_ready_at"]:
            if p["_fail"]:
                self.fail(p, p["_fail"])
                return
            if p["flow"] in ("direct", "photo_direct"):
                self.complete(p, self.privacy_of(p))
            else:
                p["status"] = "SEND_TO_USER_INBOX"
                self.webhook("post.publish.inbox_delivered", p["open_id"],
                             {"publish_id": p["publish_id"],
                              "publish_type": "INBOX_SHARE"})
            self.dirty = True
        if p["status"] == "PUBLISH_COMPLETE" and p["_ids_at"] is not None \
                and now >= p["_ids_at"]:
            p["_ids_at"] = None
            pid = 7 * 10 ** 18 + self.next_seq()
            p["post_ids"].append(pid)
            self.add_video(p, pid)
            self.active.discard(p["publish_id"])
            self.webhook("post.publish.publicly_available", p["open_id"],
                         {"publish_id": p["publish_id"], "post_id": str(pid),
                          "publish_type": self.publish_type(p)})
            self.dirty = True

    def complete(self, p, privacy):
        p["status"] = "PUBLISH_COMPLETE"
        p["completed_at"] = self.now()
        self.webhook("post.publish.complete", p["open_id"],
                     {"publish_id": p["publish_id"],
                      "publish_type": self.publish_type(p)})
        # publicaly_available_post_id: only a public post gets one, once
        # moderation has passed
        if privacy == "PUBLIC_TO_EVERYONE":
            p["_ids_at"] = self.now() + self.config["moderation_delay"]
            self.timed.add(p["publish_id"])
        else:
            self.active.discard(p["publish_id"])

    def add_video(self, p, pid):
        u = self.users.get(p["open_id"], {})
        pi = p["post_info"] or {}
        title = pi.get("title") or ""
        vid = str(pid)
        self.videos[vid] = {
            "id": vid, "open_id": p["open_id"],
            "create_time": int(self.now()),
            "cover_image_url": "https://p16-sign.tiktokcdn-us.com/sim/%s"
                               ".jpeg" % vid,
            "share_url": "https://www.tiktok.com/@%s/video/%s"
                         % (u.get("username", "user"), vid),
            "video_description": (pi.get("description") or title)[:150],
            "duration": 0, "height": 1920, "width": 1080,
            "title": title[:150],
            "embed_html": '<blockquote class="tiktok-embed" data-video-id='
                          '"%s"></blockquote>' % vid,
            "embed_link": "https://www.tiktok.com/player/v1/%s" % vid,
            "like_count": 0, "comment_count": 0, "share_count": 0,
            "view_count": 0, "is_aigc": bool(pi.get("is_aigc", False)),
            "publish_id": p["publish_id"]}

    def tick(self):
        # only tasks waiting on the clock: an upload nobody finishes costs
        # nothing here
        with self.lock:
            for pid in list(self.timed):
                p = self.publishes[pid]
                self.advance(p)
                if p["_ids_at"] is None and not (
                        p["status"].startswith("PROCESSING")
                        and p["_ready_at"] is not None):
                    self.timed.discard(pid)

    def abandoned(self, p):
        return (p["status"] == "FAILED"
                or (p["source"] == "FILE_UPLOAD"
                    and p["bytes_received"] < p["video_size"]
                    and self.now() > p["_url_expires_at"]))

    def posts_today(self, open_id, flows):
        since = self.now() - 86400
        return [p for p in self.publishes.values()
                if p["open_id"] == open_id and p["flow"] in flows
                and p["created_at"] > since and not self.abandoned(p)]

    def pending_shares(self, open_id):
        return [p for p in self.posts_today(open_id,
                                            ("inbox", "photo_upload"))
                if p["status"] != "PUBLISH_COMPLETE"]

    def active_users(self):
        since = self.now() - 86400
        return {p["open_id"] for p in self.publishes.values()
                if p["created_at"] > since}

    def user_cap(self):
        cap = self.config["active_user_cap"]
        if cap is None and not self.config["audited"]:
            cap = 5
        return cap

    @staticmethod
    def upload_key(p):
        # what makes two inits "the same upload": one user, one flow, the
        # same size or URLs and the same caption
        return json.dumps([p["open_id"], p["flow"], p["video_size"],
                           p["video_url"], p["photo_images"],
                           (p["post_info"] or {}).get("title")])

    def ledger_entry(self, p, counts=None):
        d = {k: v for k, v in p.items() if not k.startswith("_")}
        d["sha256"] = p["_hash"].hexdigest()
        if p.get("sha256_restored") and p["bytes_received"]:
            d["sha256"] = p["sha256_restored"]
        if counts is None:
            counts = collections.Counter(self.upload_key(q)
                                         for q in self.publishes.values())
        d["init_count_for_this_upload"] = counts[self.upload_key(p)]
        return d

    def ledger(self):
        self.tick()
        counts = collections.Counter(self.upload_key(q)
                                     for q in self.publishes.values())
        return {"publishes": [self.ledger_entry(self.publishes[i], counts)
                              for i in self.order],
                "counters": self.counters, "webhooks": self.webhooks,
                "now": self.now()}

    # ---- webhooks (section 14) -------------------------------------------

    def webhook(self, event, open_id, content):
        if not self.config["webhook_url"]:
            return
        body = json.dumps({"client_key": self.config["client_key"],
                           "event": event,
                           "create_time": int(self.now()),
                           "user_openid": open_id,
                           "content": json.dumps(content)}).encode()
        rec = {"event": event, "open_id": open_id, "content": content,
               "attempts": 0, "status": None,
               "url": self.config["webhook_url"]}
        self.webhooks.append(rec)
        self.webhook_q.append((rec, body, self.config["client_secret"]))
        self.webhook_cv.notify()

    def webhook_worker(self):
        while True:
            with self.lock:
                while not self.webhook_q:
                    self.webhook_cv.wait()
                rec, body, secret = self.webhook_q.popleft()
            for attempt in range(3):
                t = str(int(time.time()))
                sig = hmac.new(secret.encode(), (t + ".").encode() + body,
                               hashlib.sha256).hexdigest()
                st = None
                try:
                    u = urllib.parse.urlsplit(rec["url"])
                    if u.hostname not in LOOPBACK:
                        raise OSError("webhooks go to loopback only")
                    cls = (http.client.HTTPSConnection
                           if u.scheme == "https"
                           else http.client.HTTPConnection)
                    kw = {"timeout": 10}
                    if u.scheme == "https":
                        kw["context"] = ssl._create_unverified_context()
                    c = cls(u.hostname, u.port, **kw)
                    c.request("POST", (u.path or "/")
                              + ("?" + u.query if u.query else ""), body,
                              {"Content-Type": "application/json",
                               "TikTok-Signature": "t=%s,s=%s" % (t, sig)})
                    st = c.getresponse().status
                    c.close()
                except OSError:
                    st = 0
                with self.lock:
                    rec["attempts"] = attempt + 1
                    rec["status"] = st
                if st == 200:
                    break
                time.sleep(0.5 * (2 ** attempt))

    # ---- pulls (PULL_FROM_URL) -------------------------------------------

    def pull(self, pid, urls, is_photo):
        """Downloads every URL like TikTok would: no redirects, counting
        bytes; a failure ends the publish FAILED."""
        reason = None
        for url in urls:
            u = urllib.parse.urlsplit(url)
            head = b""
            size = 0
            try:
                if u.hostname not in LOOPBACK:
                    raise OSError("the sim only pulls from loopback")
                kw = {"timeout": self.config["pull_timeout"]}
                if u.scheme == "https":
                    kw["context"] = ssl._create_unverified_context()
                    c = http.client.HTTPSConnection(u.hostname, u.port, **kw)
                else:
                    c = http.client.HTTPConnection(u.hostname, u.port, **kw)
                c.request("GET", (u.path or "/")
                          + ("?" + u.query if u.query else ""),
                          headers={"User-Agent": "tiktok-sim-pull"})
                r = c.getresponse()
                if r.status != 200:
                    raise OSError("HTTP %d" % r.status)
                while True:
                    b = r.read(PIECE)
                    if not b:
                        break
                    if len(head) < 16:
                        head += b[:16 - len(head)]
                    size += len(b)
                    with self.lock:
                        p = self.publishes.get(pid)
                        if p is None or p["_cancelled"]:
                            c.close()
                            return
                        p["downloaded_bytes"] += len(b)
                c.close()
            except (OSError, http.client.HTTPException, ValueError):
                reason = "photo_pull_failed" if is_photo \
                    else "video_pull_failed"
                break
            if is_photo and self.config["check_photo_format"]:
                jpeg = head[:3] == b"\xff\xd8\xff"
                webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
                if not (jpeg or webp):
                    reason = "file_format_check_failed"
                    break
                if size > self.config["photo_size_max"]:
                    reason = "picture_size_check_failed"
                    break
            if not is_photo and self.config["media_checks"] \
                    and not self.video_magic_ok(head):
                reason = "file_format_check_failed"
                break
        with self.lock:
            p = self.publishes.get(pid)
            if p is None or p["status"] == "FAILED":
                return
            if reason:
                self.fail(p, reason)
            else:
                p["_ready_at"] = self.now() + self.config["processing_delay"]
                self.timed.add(pid)
                self.advance(p)

    @staticmethod
    def video_magic_ok(head):
        return head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tiktok-sim/1.0"
    sys_version = ""
    timeout = 300
    sim = None
    # a buffered writer sends the head and a small body in one segment
    # (handle_one_request flushes it): no Nagle / delayed-ACK stalls
    wbufsize = 64 * 1024

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP,
                                       socket.TCP_NODELAY, 1)
        except OSError:
            pass

    # ---- plumbing ---------------------------------------------------------

    def handle_one_request(self):
        # clients that write head and body apart (HTTP::Tiny) would wait
        # for our delayed ACK of the head: ACK at once instead
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP,
                                       socket.TCP_QUICKACK, 1)
        except (OSError, AttributeError):
            pass
        self.chunk_entry = None
        super().handle_one_request()
        # the answer is flushed now: when the client could see it
        if self.chunk_entry is not None:
            with self.sim.lock:
                self.chunk_entry["answered"] = time.time()
            self.chunk_entry = None

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if self.sim.args.verbose:
            sys.stderr.write("sim: %s\n" % (fmt % args))

    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    ROUTES = {
        "/v2/auth/authorize/": ("authorize", ("GET", "POST")),
        "/v2/oauth/token/": ("token", ("POST",)),
        "/v2/oauth/revoke/": ("revoke", ("POST",)),
        "/v2/post/publish/creator_info/query/": ("creator_info", ("POST",)),
        "/v2/post/publish/video/init/": ("video_init", ("POST",)),
        "/v2/post/publish/inbox/video/init/": ("inbox_init", ("POST",)),
        "/v2/post/publish/content/init/": ("content_init", ("POST",)),
        "/v2/post/publish/status/fetch/": ("status", ("POST",)),
        "/v2/post/publish/cancel/": ("cancel", ("POST",)),
        "/v2/user/info/": ("user_info", ("GET",)),
        "/v2/video/list/": ("video_list", ("POST",)),
        "/v2/video/query/": ("video_query", ("POST",)),
        "/upload/": ("upload", ("PUT",)),
    }

    def dispatch(self, method):
        sim = self.sim
        self.t0 = time.time()
        u = urllib.parse.urlsplit(self.path)
        self.upath = u.path
        self.query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        self.open_id = None
        if u.path.startswith("/__sim/"):
            ep = "control"
        elif u.path.startswith(("/media/", "/media-")):
            ep = "media"
        else:
            ep = self.ROUTES.get(u.path, ("unknown", ()))[0]
        self.ep = ep
        with sim.lock:
            sim.counters["requests"][ep] += 1
            if ep != "control":
                sim.counters["paths"][method + " " + u.path] += 1
                if ep not in sim.first_call:
                    sim.first_call[ep] = self.t0
        try:
            resp = self.route(method, ep, u)
        except (ConnectionError, socket.timeout):
            self.close_connection = True
            self.record(0, "connection lost")
            return
        except Exception:
            # a bug in the simulator: say so loudly, never hang the client
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            resp = self.env(500, "internal_error", "simulator bug")
        if resp is None:
            # dropped: the connection closes without an answer
            self.close_connection = True
            self.record(0, "dropped")
            return
        try:
            self.write(resp, method)
        except (ConnectionError, socket.timeout):
            self.close_connection = True
            self.record(0, "connection lost while answering")
            return
        self.record(resp.status, resp.detail)

    def record(self, status, detail=None):
        sim = self.sim
        with sim.lock:
            sim.counters["status_codes"][str(status)] += 1
            if self.ep == "control":
                return
            sim.reqlog.append({"method": self.command, "path": self.upath,
                               "endpoint": self.ep, "time": self.t0,
                               "sim_time": self.t0 + sim.clock_offset,
                               "duration": time.time() - self.t0,
                               "status": status, "open_id": self.open_id,
                               "detail": detail})

    def write(self, r, method):
        self.send_response(r.status)
        if r.ctype:
            self.send_header("Content-Type", r.ctype)
        for k, v in r.headers:
            self.send_header(k, v)
        length = r.length if r.length is not None else len(r.body)
        if length < 0:
            # a body that ends when the connection does (media-endless)
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if method == "HEAD":
            return
        if r.stream:
            r.stream(self.wfile)
        else:
            self.wfile.write(r.body)

    def read_body(self):
        """The whole (small) request body, or None after answering."""
        te = self.headers.get("Transfer-Encoding", "").lower()
        if te and te != "identity":
            if te != "chunked":
                return None
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                try:
                    n = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    return None
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n",
                                                            b""):
                        pass
                    return bytes(out)
                if len(out) + n > BODY_MAX:
                    return None
                out += self.rfile.read(n)
                self.rfile.readline(16)
        cl = self.headers.get("Content-Length")
        if cl is None:
            return b""
        if not cl.isdigit() or int(cl) > BODY_MAX:
            return None
        n = int(cl)
        data = self.rfile.read(n) if n else b""
        if len(data) != n:
            raise ConnectionError("short body")
        return data

    def drain(self, n):
        buf = bytearray(min(n, PIECE) or 1)
        mv = memoryview(buf)
        while n > 0:
            k = self.rfile.readinto(mv[:min(n, PIECE)])
            if not k:
                raise ConnectionError("short body")
            n -= k

    # ---- response helpers -------------------------------------------------

    def env(self, status, code="ok", message="", data=None):
        body = {"data": data if data is not None else {},
                "error": {"code": code, "message": message,
                          "log_id": log_id()}}
        r = Resp(status, body)
        if code != "ok":
            r.detail = code + ": " + message
        return r

    def bad(self, message):
        return self.env(400, self.sim.config["invalid_params_code"], message)

    def oauth_err(self, error, desc):
        r = Resp(self.sim.config["token_error_http_status"],
                 {"error": error, "error_description": desc,
                  "log_id": log_id()})
        r.detail = error + ": " + desc
        return r

    def fault_resp(self, ep, f):
        if ep == "token" or ep == "revoke":
            r = Resp(f["http_status"], {"error": f["code"],
                                        "error_description": f["message"],
                                        "log_id": log_id()})
        elif ep in ("upload", "media", "authorize"):
            r = Resp(f["http_status"], f["message"], "text/plain")
        else:
            r = self.env(f["http_status"], f["code"], f["message"])
        r.detail = "fault"
        return r

    # ---- routing ------------------------------------------------------------

    def route(self, method, ep, u):
        sim = self.sim
        if ep == "control":
            if self.client_address[0] not in ("127.0.0.1", "::1"):
                self.read_body()
                return Resp(403, {"error": "control API is loopback only"})
            return self.control(method, u.path)
        if ep == "media":
            self.read_body()
            f = sim.take_fault("media", None)
            if f:
                r = self.apply_pre_fault(ep, f)
                if r is not False:
                    return r
            if method not in ("GET", "HEAD"):
                return Resp(404, "not found", "text/plain")
            if u.path.startswith("/media/"):
                return self.media(method, u.path)
            return self.media_fault(u.path)
        if ep == "unknown":
            body = self.read_body()
            if body is None:
                self.close_connection = True
            return self.env(404, "not_found", "no such endpoint")
        name, methods = self.ROUTES[u.path]
        if method not in methods:
            body = self.read_body()
            if body is None:
                self.close_connection = True
            return self.env(405, "invalid_params",
                            "method %s not allowed" % method)

        # a fault may name a user: look the token (or, for a chunk, the
        # upload) up without judging it
        tok = self.bearer()
        if tok:
            with sim.lock:
                t = sim.access.get(tok)
                if t:
                    self.open_id = t["open_id"]
        elif ep == "upload":
            q = dict(urllib.parse.parse_qsl(u.query))
            with sim.lock:
                p = sim.uploads.get(q.get("upload_id", ""))
                if p:
                    self.open_id = p["open_id"]
        f = sim.take_fault(ep, self.open_id)

        if ep == "upload":
            return self.upload(f)

        body = self.read_body()
        if body is None:
            self.close_connection = True
            return self.bad("The request body is invalid")
        self.body = body
        self.fail_reason = None
        if f:
            r = self.apply_pre_fault(ep, f)
            if r is not False:
                return r
            if f["action"] == "fail_publish":
                self.fail_reason = f["fail_reason"]
        r = getattr(self, "h_" + ep)()
        if f and f["action"] == "drop":
            return None
        return r

    def apply_pre_fault(self, ep, f):
        """Returns a response (or None to drop) when the fault replaces the
        request, or False when the request goes on."""
        if f["action"] == "status":
            return self.fault_resp(ep, f)
        if f["action"] == "delay":
            time.sleep(f["ms"] / 1000.0)
            return False
        if f["action"] == "drop" and not f.get("apply"):
            return None
        return False

    def bearer(self):
        h = self.headers.get("Authorization", "")
        if h[:7].lower() != "bearer ":
            return None
        return h[7:].strip() or None

    def auth(self, scopes_any):
        """(token record, None) or (None, error response)."""
        sim = self.sim
        tok = self.bearer()
        with sim.lock:
            t = sim.access.get(tok) if tok else None
            if t is None or sim.now() >= t["expires_at"] \
                    or t["open_id"] not in sim.users:
                return None, self.env(
                    401, "access_token_invalid",
                    "The access token is invalid or not found in the "
                    "request.")
            if scopes_any and not (t["scopes"] & set(scopes_any)):
                return None, self.scope_err()
            self.open_id = t["open_id"]
            self.token = tok
            return t, None

    def scope_err(self):
        return self.env(401, "scope_not_authorized",
                        "The user did not authorize the scope required for "
                        "completing this request.")

    def rate(self, ep):
        with self.sim.lock:
            if self.sim.rate_ok(self.token, ep):
                return None
        return self.env(429, "rate_limit_exceeded",
                        "The API rate limit was exceeded. Please try again "
                        "later.")

    def json_body(self, required=True):
        """(object, None) or (None, error response)."""
        ctype = media_type_of(self.headers.get("Content-Type"))
        if not self.body and not required:
            return {}, None
        if ctype != "application/json":
            return None, self.bad("Content-Type must be application/json")
        try:
            obj = strict_json(self.body)
        except (ValueError, UnicodeDecodeError):
            return None, self.bad("The request body is not valid JSON")
        if not isinstance(obj, dict):
            return None, self.bad("The request body must be a JSON object")
        return obj, None

    # ---- OAuth (section 1) --------------------------------------------------

    def redirect_ok(self, uri):
        cfg = self.sim.config
        if cfg["redirect_uris"] is not None:
            for reg in cfg["redirect_uris"]:
                if reg == uri:
                    return True
                if ":*/" in reg:
                    pre, post = reg.split(":*/", 1)
                    if uri.startswith(pre + ":"):
                        rest = uri[len(pre) + 1:]
                        port, _, path = rest.partition("/")
                        if port.isdigit() and path == post:
                            return True
            return False
        if len(uri) >= 512:
            return False
        u = urllib.parse.urlsplit(uri)
        if u.query or u.fragment or "#" in uri or not u.netloc:
            return False
        if u.scheme == "https":
            return True
        try:
            port = u.port
        except ValueError:
            return False
        return (u.scheme == "http" and u.hostname in ("localhost",
                                                      "127.0.0.1")
                and port is not None)

    def h_authorize(self):
        sim = self.sim
        cfg = sim.config
        if self.command == "POST":
            return self.consent_submit()
        q = {k: v[0] for k, v in self.query.items()}
        if q.get("client_key") != cfg["client_key"]:
            return Resp(400, {"error": "invalid_client",
                              "error_description": "client_key is invalid",
                              "log_id": log_id()})
        ru = q.get("redirect_uri", "")
        if not self.redirect_ok(ru):
            return Resp(400, {"error": "invalid_request",
                              "error_description": "redirect_uri is not "
                              "registered", "log_id": log_id()})
        state = q.get("state")

        def back(params):
            if state is not None:
                params["state"] = state
            loc = ru + "?" + urllib.parse.urlencode(
                params, quote_via=urllib.parse.quote, safe="")
            r = Resp(302, b"", None, [("Location", loc)])
            r.detail = params.get("error")
            return r

        if not state:
            return back({"error": "invalid_request",
                         "error_description": "state is required"})
        if q.get("response_type") != "code":
            return back({"error": "unsupported_response_type",
                         "error_description": "response_type must be code"})
        scope = q.get("scope", "")
        req = scope.split(",") if scope else []
        if not req or any(s not in ALL_SCOPES for s in req):
            return back({"error": "invalid_scope",
                         "error_description": "scope is invalid"})
        if any(s not in cfg["app_scopes"] for s in req):
            return back({"error": "invalid_scope",
                         "error_description": "scope not approved for app"})
        ch = q.get("code_challenge")
        meth = q.get("code_challenge_method")
        if (ch is None) != (meth is None) or (meth and meth != "S256"):
            return back({"error": "invalid_request",
                         "error_description": "Code verifier or code "
                         "challenge is invalid."})
        if cfg["deny_authorize"]:
            return back({"error": "access_denied",
                         "error_description": "The user denied the request"})
        if cfg["consent_page"]:
            return self.consent_page(ru, state, req, ch)
        return back(self.grant(ru, req, ch, None))

    def grant(self, ru, req, ch, chosen):
        """A code for the logged-in user: the scopes asked for that the
        user has, and ticked on the consent page (chosen, None: all)."""
        sim = self.sim
        cfg = sim.config
        with sim.lock:
            oid = cfg["default_open_id"]
            if oid not in sim.users:
                oid = next(iter(sim.users), None)
            if oid is None:
                oid = sim.make_user({"username": "sim_user",
                                     "nickname": "Sim User"})["open_id"]
            user = sim.users[oid]
            granted = [s for s in req if s in user["scopes"]
                       and (chosen is None or s in chosen)]
            code = mint_code()
            sim.codes[code] = {"open_id": oid, "scopes": granted,
                               "redirect_uri": ru, "challenge": ch,
                               "expires_at": sim.now() + cfg["code_ttl"]}
            self.open_id = oid
        return {"code": code, "scopes": ",".join(granted)}

    def consent_page(self, ru, state, req, ch):
        """TikTok's consent screen: a form the browser submits (POST to the
        same path) with one checkbox a scope and Authorize / Cancel."""
        sim = self.sim
        token = secrets.token_urlsafe(16)
        with sim.lock:
            sim.consents[token] = {"redirect_uri": ru, "state": state,
                                   "scopes": req, "challenge": ch,
                                   "expires_at": sim.now() + 600}
        boxes = "".join(
            '<label><input type="checkbox" name="scope" value="%s" checked>'
            '%s</label>\n' % (html.escape(s), html.escape(s)) for s in req)
        page = ('<!DOCTYPE html>\n<html><body><h1>Authorize app</h1>\n'
                '<form method="post" action="/v2/auth/authorize/">\n'
                '<input type="hidden" name="consent" value="%s">\n%s'
                '<button name="decision" value="allow">Authorize</button>\n'
                '<button name="decision" value="deny">Cancel</button>\n'
                '</form></body></html>\n' % (token, boxes))
        return Resp(200, page.encode(), "text/html; charset=utf-8")

    def consent_submit(self):
        """The consent form, once: allow (with the ticked scopes) or deny."""
        sim = self.sim
        f = self.form()
        if f is None:
            return Resp(400, b"bad form", "text/plain")
        chosen = urllib.parse.parse_qs(self.body.decode("utf-8"),
                                       keep_blank_values=True).get("scope",
                                                                   [])
        with sim.lock:
            c = sim.consents.pop(f.get("consent", ""), None)
        if c is None or sim.now() >= c["expires_at"]:
            return Resp(400, b"this consent page is no longer valid",
                        "text/plain")
        if f.get("decision") == "allow":
            params = self.grant(c["redirect_uri"], c["scopes"],
                                c["challenge"], chosen)
        else:
            params = {"error": "access_denied",
                      "error_description": "The user denied the request"}
        params["state"] = c["state"]
        loc = c["redirect_uri"] + "?" + urllib.parse.urlencode(
            params, quote_via=urllib.parse.quote, safe="")
        r = Resp(302, b"", None, [("Location", loc)])
        r.detail = params.get("error")
        return r

    def form(self):
        ctype = media_type_of(self.headers.get("Content-Type"))
        if ctype != "application/x-www-form-urlencoded":
            return None
        try:
            f = urllib.parse.parse_qs(self.body.decode("utf-8"),
                                      keep_blank_values=True)
        except UnicodeDecodeError:
            return None
        return {k: v[0] for k, v in f.items()}

    def h_token(self):
        sim = self.sim
        cfg = sim.config
        f = self.form()
        if f is None:
            return self.oauth_err("invalid_request", "Content-Type must be "
                                  "application/x-www-form-urlencoded")
        if f.get("client_key") != cfg["client_key"] \
                or not hmac.compare_digest(f.get("client_secret", ""),
                                           cfg["client_secret"]):
            return self.oauth_err("invalid_client",
                                  "Client key or secret is incorrect.")
        gt = f.get("grant_type")
        with sim.lock:
            now = sim.now()
            if gt == "authorization_code":
                code = f.get("code")
                rec = sim.codes.pop(code, None) if code else None
                if rec is None or now >= rec["expires_at"]:
                    return self.oauth_err("invalid_grant",
                                          "Authorization code is expired.")
                if f.get("redirect_uri") != rec["redirect_uri"]:
                    return self.oauth_err("invalid_grant",
                                          "redirect_uri does not match.")
                if rec["challenge"] is not None:
                    v = f.get("code_verifier", "")
                    if not self.pkce_ok(v, rec["challenge"]):
                        return self.oauth_err(
                            "invalid_request",
                            "Code verifier or code challenge is invalid.")
                if rec["open_id"] not in sim.users:
                    return self.oauth_err("invalid_grant", "user is gone")
                self.open_id = rec["open_id"]
                return Resp(200, sim.issue_tokens(rec["open_id"],
                                                  rec["scopes"]))
            if gt == "refresh_token":
                rt = f.get("refresh_token")
                rec = sim.refresh.get(rt) if rt else None
                if rec is None or now >= rec["expires_at"]:
                    return self.oauth_err("invalid_grant",
                                          "Refresh token is invalid or "
                                          "expired.")
                self.open_id = rec["open_id"]
                if cfg["rotate_refresh"]:
                    del sim.refresh[rt]
                    return Resp(200, sim.issue_tokens(
                        rec["open_id"], rec["scopes"], rec["expires_at"]))
                tok = sim.issue_tokens(rec["open_id"], rec["scopes"],
                                       rec["expires_at"])
                del sim.refresh[tok["refresh_token"]]
                tok["refresh_token"] = rt
                return Resp(200, tok)
            if gt == "client_credentials":
                at = mint("clt")
                return Resp(200, {"access_token": at, "expires_in": 7200,
                                  "token_type": "Bearer"})
        return self.oauth_err("unsupported_grant_type",
                              "grant_type is not supported.")

    def pkce_ok(self, verifier, challenge):
        enc = self.sim.config["pkce_encoding"]
        if not 43 <= len(verifier) <= 128:
            return False
        digest = hashlib.sha256(verifier.encode()).digest()
        ok = []
        if enc in ("hex", "any"):
            ok.append(digest.hex())
        if enc in ("base64url", "any"):
            import base64
            ok.append(base64.urlsafe_b64encode(digest).rstrip(b"=").decode())
        return challenge in ok

    def h_revoke(self):
        sim = self.sim
        cfg = sim.config
        f = self.form()
        if f is None:
            return self.oauth_err("invalid_request", "Content-Type must be "
                                  "application/x-www-form-urlencoded")
        if f.get("client_key") != cfg["client_key"] \
                or f.get("client_secret") != cfg["client_secret"]:
            return self.oauth_err("invalid_client",
                                  "Client key or secret is incorrect.")
        with sim.lock:
            t = sim.access.get(f.get("token", ""))
            if t is not None:
                self.open_id = t["open_id"]
                sim.revoke_user(t["open_id"], 5)
        return Resp(200, {})

    # ---- creator info (section 3) -------------------------------------------

    def h_creator_info(self):
        sim = self.sim
        t, err = self.auth(("video.publish",))
        if err:
            return err
        err = self.rate("creator_info")
        if err:
            return err
        with sim.lock:
            u = sim.users[t["open_id"]]
            code = self.poster_block(u, ("direct", "photo_direct"))
            if code:
                return self.env(200, code[0], code[1])
            private = u["account_private"]
            data = {"creator_avatar_url": u["avatar_url"],
                    "creator_username": u["username"],
                    "creator_nickname": u["nickname"],
                    "privacy_level_options": sim.user_options(u),
                    "comment_disabled": bool(u["comment_disabled"]),
                    "duet_disabled": bool(u["duet_disabled"] or private),
                    "stitch_disabled": bool(u["stitch_disabled"] or private),
                    "max_video_post_duration_sec":
                        u["max_video_post_duration_sec"]}
        return self.env(200, data=data)

    def poster_block(self, u, flows):
        """The policy code that stops this creator posting now, if any."""
        sim = self.sim
        if u["banned"]:
            return ("spam_risk_user_banned_from_posting",
                    "The user is banned from making new posts.")
        cap = sim.user_cap()
        if cap is not None:
            users = sim.active_users()
            if u["open_id"] not in users and len(users) >= cap:
                return ("reached_active_user_cap",
                        "The daily quota of active publishing users for "
                        "this client has been reached.")
        if "direct" in flows:
            pcap = u["daily_post_cap"]
            if pcap is None:
                pcap = sim.config["daily_post_cap"]
            if u["spam"] or len(sim.posts_today(u["open_id"], flows)) >= pcap:
                return ("spam_risk_too_many_posts",
                        "The daily post cap for this creator has been "
                        "reached.")
        return None

    # ---- inits (sections 4, 5, 7) -------------------------------------------

    def check_post_info(self, pi, photo):
        """A message when post_info is malformed, else None."""
        if not isinstance(pi, dict):
            return "post_info must be an object"
        if "privacy_level" in pi and pi["privacy_level"] not in PRIVACY_ENUM:
            return "privacy_level is invalid"
        limits = {"title": 90 if photo else 2200, "description": 4000}
        for k, lim in limits.items():
            if k == "description" and not photo:
                continue
            if k in pi:
                if not isinstance(pi[k], str):
                    return "%s must be a string" % k
                if utf16_len(pi[k]) > lim:
                    return "%s is longer than %d characters" % (k, lim)
        bools = ["disable_comment", "brand_content_toggle",
                 "brand_organic_toggle", "is_aigc", "auto_add_music"]
        if not photo:
            bools += ["disable_duet", "disable_stitch"]
        for k in bools:
            if k in pi and not is_bool(pi[k]):
                return "%s must be a boolean" % k
        if "video_cover_timestamp_ms" in pi \
                and not is_int(pi["video_cover_timestamp_ms"]):
            return "video_cover_timestamp_ms must be an integer"
        return None

    def check_direct_post_info(self, pi):
        cfg = self.sim.config
        if cfg["require_brand_toggles"]:
            for k in ("brand_content_toggle", "brand_organic_toggle"):
                if k not in pi:
                    return "%s is required" % k
        if cfg["reject_branded_self_only"] \
                and pi.get("brand_content_toggle") is True \
                and pi.get("privacy_level") == "SELF_ONLY":
            return "Branded content cannot be private"
        return None

    def check_file_source(self, si):
        cfg = self.sim.config
        for k in ("video_size", "chunk_size", "total_chunk_count"):
            if k not in si:
                return "%s is required" % k, None
            if not is_int(si[k]):
                return "%s must be an integer" % k, None
        vs, cs, n = si["video_size"], si["chunk_size"], si["total_chunk_count"]
        if vs <= 0 or vs > cfg["video_size_max"]:
            return "The video size is invalid", None
        why = None
        if cs <= 0:
            why = "chunk_size <= 0"
        elif n < 1 or n > cfg["chunk_count_max"]:
            why = "total_chunk_count out of 1..%d" % cfg["chunk_count_max"]
        elif vs < cfg["chunk_min"]:
            if cs != vs or n != 1:
                why = "a file under chunk_min must go whole"
        elif cs < cfg["chunk_min"] or cs > cfg["chunk_max"]:
            why = "chunk_size out of %d..%d" % (cfg["chunk_min"],
                                                cfg["chunk_max"])
        elif n != vs // cs:
            why = "total_chunk_count != floor(video_size / chunk_size)"
        elif vs - (n - 1) * cs > cfg["last_chunk_max"]:
            why = "last chunk over %d" % cfg["last_chunk_max"]
        elif vs > cfg["chunk_max"] and n < 2:
            why = "a file over chunk_max must go in several chunks"
        elif n == 1 and cs != vs and cfg["single_chunk_must_be_whole"]:
            why = "one chunk but chunk_size != video_size"
        if why is None and n > 1 and cfg["reject_multi_chunk"]:
            why = "multi-chunk uploads are rejected (reject_multi_chunk)"
        if why:
            return "The chunk size is invalid", why
        return None, None

    def url_ok(self, url, allow_http):
        """None if url is acceptable, else (http status, code, message)."""
        cfg = self.sim.config
        if not isinstance(url, str):
            return (400, cfg["invalid_params_code"], "the URL is invalid")
        u = urllib.parse.urlsplit(url)
        if u.scheme == "http" and allow_http and u.hostname in LOOPBACK:
            pass
        elif u.scheme != "https" or not u.hostname:
            return (400, cfg["invalid_params_code"],
                    "the URL must be https")
        host = u.hostname
        for d in cfg["verified_domains"]:
            if host == d or host.endswith("." + d):
                return None
        for pre in cfg["verified_url_prefixes"]:
            if url.startswith(pre):
                return None
        return (403, "url_ownership_unverified",
                "The URL domain or prefix is not verified for this client.")

    def h_video_init(self):
        return self.video_init(False)

    def h_inbox_init(self):
        return self.video_init(True)

    def video_init(self, inbox):
        sim = self.sim
        cfg = sim.config
        ep = "inbox_init" if inbox else "video_init"
        t, err = self.auth(("video.upload",) if inbox else ("video.publish",))
        if err:
            return err
        err = self.rate(ep)
        if err:
            return err
        body, err = self.json_body()
        if err:
            return err
        pi = body.get("post_info")
        if inbox:
            if pi is not None and cfg["inbox_post_info"] == "reject":
                return self.bad("post_info is not allowed for inbox uploads")
            pi = None
        else:
            if pi is None:
                return self.bad("post_info is required")
            msg = self.check_post_info(pi, False) \
                or self.check_direct_post_info(pi)
            if msg:
                return self.bad(msg)
        si = body.get("source_info")
        if not isinstance(si, dict):
            return self.bad("source_info is required")
        src = si.get("source")
        if src not in ("FILE_UPLOAD", "PULL_FROM_URL"):
            return self.bad("source must be FILE_UPLOAD or PULL_FROM_URL")
        if src == "FILE_UPLOAD":
            msg, why = self.check_file_source(si)
            if msg:
                r = self.bad(msg)
                r.detail = why or msg
                return r
        else:
            if not isinstance(si.get("video_url"), str):
                return self.bad("video_url is required")
            bad_url = self.url_ok(si["video_url"], cfg["allow_http_videos"])
            if bad_url and bad_url[0] == 400:
                return self.env(*bad_url)

        with sim.lock:
            u = sim.users[t["open_id"]]
            if inbox:
                block = self.poster_block(u, ("inbox",))
                if not block and len(sim.pending_shares(u["open_id"])) \
                        >= cfg["inbox_pending_cap"]:
                    block = ("spam_risk_too_many_pending_share",
                             "The user has too many pending shares.")
            else:
                block = self.poster_block(u, ("direct", "photo_direct"))
                if not block and not cfg["audited"] \
                        and not u["account_private"]:
                    block = ("unaudited_client_can_only_post_to_private_"
                             "accounts", "Unaudited clients can only post "
                             "to private accounts.")
                if not block and pi.get("privacy_level") \
                        not in sim.user_options(u):
                    block = ("privacy_level_option_mismatch",
                             "The privacy level is not in the creator's "
                             "privacy level options.")
            if block:
                return self.env(403, *block)
            if src == "PULL_FROM_URL" and bad_url:
                return self.env(*bad_url)

            post_info = None
            if pi is not None:
                post_info = dict(pi)
                # the server forces what the creator's settings forbid
                if u["comment_disabled"]:
                    post_info["disable_comment"] = True
                if u["duet_disabled"] or u["account_private"]:
                    post_info["disable_duet"] = True
                if u["stitch_disabled"] or u["account_private"]:
                    post_info["disable_stitch"] = True
            kind = ("inbox_" if inbox else "direct_") \
                + ("file" if src == "FILE_UPLOAD" else "url")
            p = sim.new_publish(kind, u["open_id"],
                                "inbox" if inbox else "direct", src,
                                post_info=post_info,
                                _fail=self.fail_reason)
            data = {"publish_id": p["publish_id"]}
            if src == "FILE_UPLOAD":
                now = sim.now()
                upload_id = str(sim.next_seq())
                token = secrets.token_urlsafe(24)
                base = cfg["upload_base"] or "http://%s:%d" % (
                    self.url_host(), sim.port)
                url = "%s/upload/?upload_id=%s&upload_token=%s" % (
                    base, upload_id, token)
                p.update(video_size=si["video_size"],
                         chunk_size=si["chunk_size"],
                         total_chunk_count=si["total_chunk_count"],
                         upload_url=url,
                         upload_expires_at=now + cfg["upload_url_ttl"],
                         _upload_id=upload_id, _upload_token=token,
                         _url_expires_at=now + cfg["upload_url_ttl"])
                sim.uploads[upload_id] = p
                data["upload_url"] = url
            else:
                p["video_url"] = si["video_url"]
        if src == "PULL_FROM_URL":
            threading.Thread(target=sim.pull, daemon=True,
                             args=(p["publish_id"], [si["video_url"]],
                                   False)).start()
        return self.env(200, data=data)

    def url_host(self):
        h = self.sim.host
        return "127.0.0.1" if h in ("", "0.0.0.0", "::") else h

    def h_content_init(self):
        sim = self.sim
        cfg = sim.config
        t, err = self.auth(("video.publish", "video.upload"))
        if err:
            return err
        err = self.rate("content_init")
        if err:
            return err
        body, err = self.json_body()
        if err:
            return err
        if body.get("media_type") != "PHOTO":
            return self.bad("media_type must be PHOTO")
        mode = body.get("post_mode")
        if mode not in ("DIRECT_POST", "MEDIA_UPLOAD"):
            return self.bad("post_mode must be DIRECT_POST or MEDIA_UPLOAD")
        need = "video.publish" if mode == "DIRECT_POST" else "video.upload"
        if need not in t["scopes"]:
            return self.scope_err()
        pi = body.get("post_info", {} if mode == "MEDIA_UPLOAD" else None)
        if pi is None:
            return self.bad("post_info is required")
        msg = self.check_post_info(pi, True)
        if not msg and mode == "DIRECT_POST":
            msg = self.check_direct_post_info(pi)
        if msg:
            return self.bad(msg)
        si = body.get("source_info")
        if not isinstance(si, dict):
            return self.bad("source_info is required")
        if si.get("source") != "PULL_FROM_URL":
            return self.bad("source must be PULL_FROM_URL")
        imgs = si.get("photo_images")
        if not isinstance(imgs, list) or not 1 <= len(imgs) <= 35 \
                or not all(isinstance(x, str) and x for x in imgs):
            return self.bad("photo_images must list 1 to 35 URLs")
        ci = si.get("photo_cover_index")
        if not is_int(ci) or not 0 <= ci < len(imgs):
            return self.bad("photo_cover_index is invalid")
        if mode == "MEDIA_UPLOAD" and cfg["photo_app_version_too_old"]:
            return self.env(400, "app_version_check_failed",
                            "The user's TikTok app is too old.")
        bad_urls = [self.url_ok(x, cfg["allow_http_images"]) for x in imgs]
        for b in bad_urls:
            if b and b[0] == 400:
                return self.env(*b)
        with sim.lock:
            u = sim.users[t["open_id"]]
            if mode == "DIRECT_POST":
                block = self.poster_block(u, ("direct", "photo_direct"))
                if not block and not cfg["audited"] \
                        and not u["account_private"]:
                    block = ("unaudited_client_can_only_post_to_private_"
                             "accounts", "Unaudited clients can only post "
                             "to private accounts.")
                if not block and pi.get("privacy_level") \
                        not in sim.user_options(u):
                    block = ("privacy_level_option_mismatch",
                             "The privacy level is not in the creator's "
                             "privacy level options.")
            else:
                block = self.poster_block(u, ("photo_upload",))
                if not block and len(sim.pending_shares(u["open_id"])) \
                        >= cfg["inbox_pending_cap"]:
                    block = ("spam_risk_too_many_pending_share",
                             "The user has too many pending shares.")
            if block:
                return self.env(403, *block)
            for b in bad_urls:
                if b:
                    return self.env(*b)
            post_info = dict(pi)
            if mode == "DIRECT_POST" and u["comment_disabled"]:
                post_info["disable_comment"] = True
            direct = mode == "DIRECT_POST"
            p = sim.new_publish("photo_direct" if direct else "photo_upload",
                                u["open_id"],
                                "photo_direct" if direct else "photo_upload",
                                "PULL_FROM_URL", post_info=post_info,
                                post_mode=mode, photo_images=list(imgs),
                                photo_cover_index=ci, _fail=self.fail_reason)
        threading.Thread(target=sim.pull, daemon=True,
                         args=(p["publish_id"], list(imgs), True)).start()
        return self.env(200, data={"publish_id": p["publish_id"]})

    # ---- status, cancel (section 8) -----------------------------------------

    def publish_for(self, t, body):
        sim = self.sim
        pid = body.get("publish_id")
        if not isinstance(pid, str) or not pid:
            return None, self.bad("publish_id is required")
        p = sim.publishes.get(pid)
        if p is None:
            return None, self.env(400, "invalid_publish_id",
                                  "The publish_id does not exist.")
        if p["open_id"] != t["open_id"]:
            return None, self.env(
                400, "token_not_authorized_for_specified_publish_id",
                "The access token is not authorized for this publish_id.")
        return p, None

    def h_status(self):
        sim = self.sim
        t, err = self.auth(("video.publish", "video.upload"))
        if err:
            return err
        err = self.rate("status")
        if err:
            return err
        body, err = self.json_body()
        if err:
            return err
        with sim.lock:
            p, err = self.publish_for(t, body)
            if err:
                return err
            if self.fail_reason and p["status"] != "FAILED":
                sim.fail(p, self.fail_reason)
            sim.advance(p)
            data = {"status": p["status"],
                    "publicaly_available_post_id": list(p["post_ids"])}
            if p["status"] == "FAILED":
                data["fail_reason"] = p["fail_reason"]
            if p["source"] == "FILE_UPLOAD":
                data["uploaded_bytes"] = p["bytes_received"]
            else:
                data["downloaded_bytes"] = p["downloaded_bytes"]
        return self.env(200, data=data)

    def h_cancel(self):
        sim = self.sim
        t, err = self.auth(("video.publish", "video.upload"))
        if err:
            return err
        err = self.rate("cancel")
        if err:
            return err
        body, err = self.json_body()
        if err:
            return err
        with sim.lock:
            p, err = self.publish_for(t, body)
            if err:
                return err
            if p["source"] != "PULL_FROM_URL" \
                    or p["status"] != "PROCESSING_DOWNLOAD":
                return self.env(400, "publish_not_cancellable",
                                "The publish cannot be cancelled.")
            p["_cancelled"] = True
            sim.fail(p, "publish_cancelled")
        return Resp(200, {"error": {"code": "ok", "message": "",
                                    "log_id": log_id()}})

    # ---- chunk upload (section 6) -------------------------------------------

    def upload(self, fault):
        sim = self.sim
        cl = self.headers.get("Content-Length")
        te = self.headers.get("Transfer-Encoding")
        if te or cl is None or not cl.isdigit():
            # without a length the body cannot be skipped: hang up after
            self.close_connection = True
            r = Resp(400, "Content-Length is required", "text/plain")
            r.detail = "no Content-Length"
            return r
        n = int(cl)
        if fault:
            act = fault["action"]
            if act == "status" or act == "drop" and not fault.get("apply"):
                # the body is read and thrown away: the chunk is lost
                self.drain(n)
            r = self.apply_pre_fault("upload", fault)
            if r is not False:
                return r
        q = {k: v[0] for k, v in self.query.items()}
        code, msg, p = self.upload_check(q, n)
        if code:
            self.drain(n)
            r = Resp(code, msg, "text/plain",
                     self.progress_header(p) if p else None)
            r.detail = msg
            return r
        # the chunk is read outside the lock into a copy of the running
        # hash: it counts only once it arrived whole
        first = p["bytes_received"]
        ok = False
        try:
            h = p["_hash"].copy()
            buf = bytearray(min(n, PIECE) or 1)
            mv = memoryview(buf)
            left = n
            head = b""
            body_start = time.time()
            while left > 0:
                k = self.rfile.readinto(mv[:min(left, PIECE)])
                if not k:
                    raise ConnectionError("short body")
                h.update(mv[:k])
                if first == 0 and len(head) < 16:
                    head += bytes(mv[:min(k, 16 - len(head))])
                left -= k
            body_end = time.time()
            ok = True
        finally:
            with sim.lock:
                p["_busy"] = False
                if ok:
                    self.commit_chunk(p, h, n, head, fault)
                    # arrival times, for latency measurements; the
                    # answer's time is set once it is flushed
                    ct = {"first": first, "head": self.t0,
                          "body_start": body_start, "body_end": body_end,
                          "answered": None}
                    p.setdefault("chunk_times", []).append(ct)
                    if not (fault and fault["action"] == "drop"):
                        self.chunk_entry = ct
        if fault and fault["action"] == "drop":
            return None
        done = p["bytes_received"] == p["video_size"]
        return Resp(201 if done else 206, b"", None, self.progress_header(p))

    def upload_check(self, q, n):
        """(http status, message, publish) for a bad PUT, else
        (None, None, publish) with the publish marked busy."""
        sim = self.sim
        with sim.lock:
            p = sim.uploads.get(q.get("upload_id", ""))
            if p is None or not hmac.compare_digest(
                    q.get("upload_token", ""), p["_upload_token"]):
                return 404, "no valid upload task for this URL", None
            self.open_id = p["open_id"]
            if sim.now() > p["_url_expires_at"]:
                return 403, "the upload URL has expired", p
            ctype = media_type_of(self.headers.get("Content-Type"))
            if ctype not in VIDEO_TYPES:
                return 400, "Content-Type must be one of " + \
                    ", ".join(VIDEO_TYPES), p
            cr = self.headers.get("Content-Range", "")
            try:
                unit, _, rest = cr.partition(" ")
                rng, _, total = rest.partition("/")
                a, _, b = rng.partition("-")
                if unit != "bytes" or not (a.isdigit() and b.isdigit()
                                           and total.isdigit()):
                    raise ValueError
                a, b, total = int(a), int(b), int(total)
            except ValueError:
                return 400, "Content-Range is malformed", p
            vs, cs = p["video_size"], p["chunk_size"]
            if total != vs:
                return 400, "Content-Range total != video_size", p
            if b < a or n != b - a + 1:
                return 400, "Content-Length != the Content-Range length", p
            if p["_busy"] or a != p["bytes_received"]:
                return 416, "Content-Range does not match the upload " \
                    "progress", p
            idx = a // cs
            if idx >= p["total_chunk_count"]:
                return 400, "chunk index beyond total_chunk_count", p
            last = idx == p["total_chunk_count"] - 1
            if not last and n != cs:
                return 400, "a chunk other than the last must be " \
                    "chunk_size bytes", p
            if last and b != vs - 1:
                return 400, "the last chunk must end at video_size - 1", p
            p["_busy"] = True
            p["content_types"].append(ctype)
            return None, None, p

    def commit_chunk(self, p, h, n, head, fault):
        sim = self.sim
        p["_hash"] = h
        p["bytes_received"] += n
        p["chunks_received"] += 1
        if head:
            p["_head"] = head.hex()
        if fault and fault["action"] == "fail_publish":
            p["_fail"] = fault["fail_reason"]
        if p["bytes_received"] == p["video_size"]:
            if sim.config["media_checks"] and not p["_fail"] \
                    and not sim.video_magic_ok(bytes.fromhex(p["_head"])):
                p["_fail"] = "file_format_check_failed"
            p["_ready_at"] = sim.now() + sim.config["processing_delay"]
            sim.timed.add(p["publish_id"])
            sim.advance(p)
        sim.dirty = True

    def progress_header(self, p):
        got = p["bytes_received"]
        if got == 0:
            return [("Content-Range", "bytes */%d" % p["video_size"])]
        return [("Content-Range", "bytes 0-%d/%d" % (got - 1,
                                                     p["video_size"]))]

    # ---- Display API (section 13) -------------------------------------------

    def fields(self, allowed):
        raw = self.query.get("fields", [""])[0]
        fl = [x for x in raw.split(",") if x]
        if not fl:
            return None, self.bad("fields is required")
        for x in fl:
            if x not in allowed:
                return None, self.bad("unknown field " + x)
        return fl, None

    def h_user_info(self):
        sim = self.sim
        t, err = self.auth(("user.info.basic", "user.info.profile",
                            "user.info.stats"))
        if err:
            return err
        err = self.rate("user_info")
        if err:
            return err
        fl, err = self.fields(USER_FIELDS)
        if err:
            return err
        missing = [x for x in fl if USER_FIELDS[x] not in t["scopes"]]
        if missing:
            return self.env(400, "scope_permission_missed",
                            "fields need additional scopes: "
                            + ",".join(missing))
        with sim.lock:
            u = sim.users[t["open_id"]]
            vids = [v for v in sim.videos.values()
                    if v["open_id"] == u["open_id"]]
            full = {"open_id": u["open_id"], "union_id": u["union_id"],
                    "avatar_url": u["avatar_url"],
                    "avatar_url_100": u["avatar_url"],
                    "avatar_large_url": u["avatar_url"],
                    "display_name": u["nickname"],
                    "bio_description": u["bio_description"],
                    "profile_deep_link": "https://vm.tiktok.com/%s/"
                                         % u["username"],
                    "is_verified": u["is_verified"],
                    "username": u["username"],
                    "follower_count": u["follower_count"],
                    "following_count": u["following_count"],
                    "likes_count": u["likes_count"],
                    "video_count": len(vids)}
        return self.env(200, data={"user": {k: full[k] for k in fl}})

    def h_video_list(self):
        sim = self.sim
        t, err = self.auth(("video.list",))
        if err:
            return err
        err = self.rate("video_list")
        if err:
            return err
        fl, err = self.fields(VIDEO_FIELDS)
        if err:
            return err
        body, err = self.json_body(required=False)
        if err:
            return err
        mc = body.get("max_count", 10)
        cur = body.get("cursor")
        if not is_int(mc) or not 1 <= mc <= 20:
            return self.bad("max_count must be 1..20")
        if cur is not None and not is_int(cur):
            return self.bad("cursor must be an integer")
        with sim.lock:
            vids = sorted((v for v in sim.videos.values()
                           if v["open_id"] == t["open_id"]
                           and (cur is None
                                or v["create_time"] * 1000 < cur)),
                          key=lambda v: (v["create_time"], v["id"]),
                          reverse=True)
            page = vids[:mc]
            out = [{k: self.video_now(v)[k] for k in fl} for v in page]
            nxt = page[-1]["create_time"] * 1000 if page else (cur or 0)
        return self.env(200, data={"videos": out, "cursor": nxt,
                                   "has_more": len(vids) > mc})

    def video_now(self, v):
        """The video as TikTok shows it now: its counts grow with its age
        on the simulator's clock (10 views, 1 like a second; a comment
        every 5 s, a share every 10 s), so successive reads differ."""
        age = max(0, int(self.sim.now()) - v["create_time"])
        out = dict(v)
        out.update(view_count=10 * age, like_count=age,
                   comment_count=age // 5, share_count=age // 10)
        return out

    def h_video_query(self):
        sim = self.sim
        t, err = self.auth(("video.list",))
        if err:
            return err
        err = self.rate("video_query")
        if err:
            return err
        fl, err = self.fields(VIDEO_FIELDS)
        if err:
            return err
        body, err = self.json_body()
        if err:
            return err
        ids = (body.get("filters") or {}).get("video_ids") \
            if isinstance(body.get("filters"), dict) else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= 20 \
                or not all(isinstance(x, str) for x in ids):
            return self.bad("filters.video_ids must list 1 to 20 ids")
        with sim.lock:
            out = [{k: self.video_now(sim.videos[i])[k] for k in fl}
                   for i in ids
                   if i in sim.videos
                   and sim.videos[i]["open_id"] == t["open_id"]]
        r = self.env(200, data={"videos": out})
        r.detail = {"video_ids": ids, "fields": fl}
        return r

    # ---- media host -------------------------------------------------------

    MEDIA_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime",
                   ".webm": "video/webm", ".webp": "image/webp",
                   ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                   ".png": "image/png"}

    def media_file(self, name):
        """(path, size, content type) of a file under --media-dir, or
        None."""
        root = self.sim.media_dir
        if not root:
            return None
        rootr = os.path.realpath(root)
        full = os.path.realpath(os.path.join(rootr, name))
        if not full.startswith(rootr + os.sep) or not os.path.isfile(full):
            return None
        ext = os.path.splitext(full)[1].lower()
        ctype = self.MEDIA_TYPES.get(ext) or mimetypes.guess_type(full)[0] \
            or "application/octet-stream"
        return full, os.path.getsize(full), ctype

    def media(self, method, path):
        f = self.media_file(urllib.parse.unquote(path[len("/media/"):]))
        if f is None:
            return Resp(404, "not found", "text/plain")
        full, size, ctype = f
        start, end, status = 0, size - 1, 200
        hdrs = [("Accept-Ranges", "bytes")]
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and "," not in rng:
            a, _, b = rng[6:].strip().partition("-")
            try:
                if a == "":
                    k = int(b)
                    start, end = max(0, size - k), size - 1
                    if k == 0:
                        raise ValueError
                else:
                    start = int(a)
                    end = min(int(b), size - 1) if b else size - 1
                if start >= size or start > end:
                    raise ValueError
            except ValueError:
                return Resp(416, b"", None,
                            [("Content-Range", "bytes */%d" % size)])
            status = 206
            hdrs.append(("Content-Range", "bytes %d-%d/%d"
                         % (start, end, size)))

        def stream(w, full=full, start=start, end=end):
            with open(full, "rb") as f:
                f.seek(start)
                left = end - start + 1
                while left > 0:
                    b = f.read(min(PIECE, left))
                    if not b:
                        break
                    w.write(b)
                    left -= len(b)

        return Resp(status, b"", ctype, hdrs, stream=stream,
                    length=max(0, end - start + 1))

    # Misbehaving media servers, for the client's download limits.  They
    # take no lock while they wait or stream, so other requests go on.

    def media_fault(self, path):
        parts = [urllib.parse.unquote(x) for x in path.split("/")[1:]]
        q = {k: v[0] for k, v in self.query.items()}
        try:
            if parts[0] == "media-redirect":
                return self.media_redirect(parts[1:])
            if parts[0] == "media-stall" and len(parts) == 2:
                return self.media_stall(parts[1],
                                        int(q.get("after", 1024)),
                                        float(q.get("sec", 3600)))
            if parts[0] == "media-endless" and len(parts) == 1:
                return self.media_endless(
                    q.get("type", "application/octet-stream"),
                    int(q.get("length", -1)))
        except ValueError:
            pass
        return Resp(404, "not found", "text/plain")

    def media_redirect(self, parts):
        """/media-redirect/loop redirects to itself; /media-redirect/N/name
        takes N hops (302, relative Location) to /media/name."""
        if parts == ["loop"]:
            to = "/media-redirect/loop"
        elif len(parts) == 2 and parts[0].isdigit() \
                and 1 <= int(parts[0]) <= 100:
            n, name = int(parts[0]), urllib.parse.quote(parts[1])
            to = ("/media-redirect/%d/%s" % (n - 1, name) if n > 1
                  else "/media/" + name)
        else:
            return Resp(404, "not found", "text/plain")
        r = Resp(302, "redirect\n", "text/plain", [("Location", to)])
        r.detail = "redirect to " + to
        return r

    def media_stall(self, name, after, sec):
        """The file's head with its full Content-Length, the first `after`
        bytes, then nothing for `sec` seconds (or until the client hangs
        up), then the rest."""
        f = self.media_file(name)
        if f is None or after < 0 or not sec >= 0:
            return Resp(404, "not found", "text/plain")
        full, size, ctype = f
        after = min(after, size)
        conn = self.connection

        def stream(w):
            with open(full, "rb") as fh:
                w.write(fh.read(after))
                w.flush()
                end = time.monotonic() + sec
                while True:
                    left = end - time.monotonic()
                    if left <= 0:
                        break
                    r, _, _ = select.select([conn], [], [], min(left, 0.2))
                    if r and not conn.recv(1, socket.MSG_PEEK):
                        raise ConnectionError("the client hung up")
                    if r:
                        time.sleep(min(left, 0.2))
                while True:
                    b = fh.read(PIECE)
                    if not b:
                        break
                    w.write(b)

        r = Resp(200, b"", ctype, stream=stream, length=size)
        r.detail = "stall %d bytes in for %g s" % (after, sec)
        return r

    def media_endless(self, ctype, length):
        """Zeros of the given type: `length` bytes with that Content-Length,
        or without one (length < 0) until the client hangs up."""
        zeros = bytes(PIECE // 16)

        def stream(w):
            left = length
            while left != 0:
                n = len(zeros) if left < 0 else min(left, len(zeros))
                w.write(zeros[:n])
                if left > 0:
                    left -= n

        return Resp(200, b"", ctype, stream=stream,
                    length=length if length >= 0 else -1)

    # ---- control API ------------------------------------------------------

    def control(self, method, path):
        sim = self.sim
        body = self.read_body()
        if body is None:
            self.close_connection = True
            return Resp(400, {"error": "bad body"})
        try:
            arg = strict_json(body) if body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            return Resp(400, {"error": "body is not JSON"})
        parts = [urllib.parse.unquote(x) for x in path.split("/")[2:] if x]
        try:
            with sim.lock:
                r = self.control_locked(method, parts, arg)
        except (ValueError, KeyError, TypeError) as e:
            return Resp(400, {"error": str(e)})
        if isinstance(r, Resp):
            return r
        return Resp(200, r)

    def control_locked(self, method, parts, arg):
        sim = self.sim
        key = (method, parts[0] if parts else "")
        n = len(parts)
        if key == ("POST", "users") and n == 1:
            u = sim.make_user(arg)
            scopes = [s for s in u["scopes"] if s in ALL_SCOPES]
            out = dict(u)
            out.update(sim.issue_tokens(u["open_id"], scopes))
            return out
        if key == ("GET", "users"):
            if n == 2:
                return sim.users[parts[1]]
            return {"users": list(sim.users.values())}
        if key == ("POST", "users") and n == 2:
            sim.update_user(sim.users[parts[1]], arg)
            return sim.users[parts[1]]
        if key == ("POST", "users") and n == 3 and parts[2] == "tokens":
            u = sim.users[parts[1]]
            scopes = arg.get("scopes", u["scopes"])
            if isinstance(scopes, str):
                scopes = scopes.split(",")
            return sim.issue_tokens(u["open_id"], scopes)
        if key == ("POST", "users") and n == 3 and parts[2] == "revoke":
            sim.revoke_user(sim.users[parts[1]]["open_id"],
                            arg.get("reason", 1))
            return {}
        if key == ("POST", "config") or key == ("GET", "config"):
            for k, v in arg.items():
                if k not in DEFAULT_CONFIG:
                    raise ValueError("unknown config key " + k)
                if k == "rate_limits":
                    sim.config["rate_limits"].update(v)
                else:
                    sim.config[k] = v
            sim.dirty = True
            return sim.config
        if key == ("POST", "faults"):
            rules = arg.get("rules", arg) if isinstance(arg, dict) else arg
            if isinstance(rules, dict):
                rules = [rules]
            for r in rules:
                sim.add_fault(r)
            return {"faults": sim.faults}
        if key == ("GET", "faults"):
            return {"faults": sim.faults}
        if key == ("DELETE", "faults"):
            sim.faults = []
            return {"faults": []}
        if key == ("POST", "clock"):
            adv = arg.get("advance_sec", 0)
            if not isinstance(adv, (int, float)):
                raise ValueError("advance_sec must be a number")
            sim.clock_offset += adv
            sim.tick()
            return {"now": sim.now(), "offset": sim.clock_offset}
        if key == ("GET", "clock"):
            return {"now": sim.now(), "offset": sim.clock_offset}
        if key == ("POST", "tokens") and parts[1:] == ["expire"]:
            hit = 0
            if arg.get("access_token") in sim.access:
                sim.access[arg["access_token"]]["expires_at"] = \
                    sim.now() - 1
                hit += 1
            if arg.get("refresh_token") in sim.refresh:
                sim.refresh[arg["refresh_token"]]["expires_at"] = \
                    sim.now() - 1
                hit += 1
            if not hit:
                raise KeyError("no such token")
            return {"expired": hit}
        if key == ("POST", "inbox") and n == 3 and parts[2] == "post":
            p = sim.publishes[parts[1]]
            sim.advance(p)
            if p["status"] != "SEND_TO_USER_INBOX":
                return Resp(409, {"error": "publish is " + p["status"]})
            privacy = arg.get("privacy_level", "PUBLIC_TO_EVERYONE")
            p["post_info"] = dict(p["post_info"] or {},
                                  privacy_level=privacy)
            if "title" in arg:
                p["post_info"]["title"] = arg["title"]
            sim.active.add(p["publish_id"])
            sim.complete(p, privacy)
            sim.advance(p)
            return sim.ledger_entry(p)
        if key == ("POST", "publishes") and n == 2:
            # force an outcome: {"fail_reason": ...} or {"complete": true}
            p = sim.publishes[parts[1]]
            if arg.get("fail_reason"):
                sim.fail(p, arg["fail_reason"])
            return sim.ledger_entry(p)
        if key == ("POST", "videos") and n == 2:
            v = sim.videos[parts[1]]
            for k, val in arg.items():
                if k not in v:
                    raise ValueError("unknown video field " + k)
                v[k] = val
            return v
        if key == ("GET", "videos"):
            return {"videos": list(sim.videos.values())}
        if key == ("GET", "ledger"):
            if n == 2:
                p = sim.publishes[parts[1]]
                sim.advance(p)
                return sim.ledger_entry(p)
            return sim.ledger()
        if key == ("GET", "hits"):
            q = {k: v[0] for k, v in self.query.items()}
            path = q.get("path")
            return {"hits": {k: v for k, v in sim.counters["paths"].items()
                             if path is None or k.split(" ", 1)[1] == path}}
        if key == ("GET", "requests"):
            q = {k: v[0] for k, v in self.query.items()}
            since = float(q.get("since", 0))
            ep = q.get("endpoint")
            reqs = [r for r in sim.reqlog if r["time"] >= since
                    and (not ep or r["endpoint"] == ep)]
            return {"requests": reqs, "first_call": sim.first_call,
                    "counters": sim.counters}
        if key == ("POST", "reset"):
            sim.reset()
            return {"reset": True}
        if key == ("POST", "save"):
            threading.Thread(target=sim.save, daemon=True).start()
            return {}
        return Resp(404, {"error": "no such control endpoint"})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # a client that hangs up mid-request is routine here
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout, OSError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="local TikTok simulator")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--state-file")
    ap.add_argument("--client-key")
    ap.add_argument("--client-secret")
    ap.add_argument("--media-dir")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--die-with-parent", action="store_true",
                    help="exit when the parent process goes away")
    args = ap.parse_args()

    sim = Sim(args)
    Handler.sim = sim
    httpd = Server((args.host, args.port), Handler)
    sim.port = httpd.server_address[1]

    def ticker():
        while True:
            time.sleep(0.05)
            sim.tick()

    def saver():
        while True:
            time.sleep(1.0)
            if sim.dirty:
                try:
                    sim.save()
                except OSError as e:
                    sys.stderr.write("sim: cannot save state: %s\n" % e)

    threading.Thread(target=ticker, daemon=True).start()
    threading.Thread(target=sim.webhook_worker, daemon=True).start()
    if args.state_file:
        threading.Thread(target=saver, daemon=True).start()

    def stop(signum, frame):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    def orphan_watch(parent):
        # a test killed with -9 must not leave its simulator behind
        while os.getppid() == parent:
            time.sleep(0.5)
        stop(None, None)

    if args.die_with_parent:
        threading.Thread(target=orphan_watch, args=(os.getppid(),),
                         daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    print("listening on %s:%d" % (args.host, sim.port), flush=True)
    httpd.serve_forever(poll_interval=0.2)
    if args.state_file:
        sim.save()
    httpd.server_close()


if __name__ == "__main__":
    main()
