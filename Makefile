# ngx_tiktok: an nginx module and a scheduler daemon that publish to TikTok.
#
#   make run      install what is missing, build, start the stack on :8080
#   make test     install what is missing, build, run every test
#   make install  the module where Debian's nginx looks, the programs in
#                 $(PREFIX)/bin, a systemd unit and an example (DESTDIR=)
#
# Other targets: all, module, scheduler, unit, unit-asan, e2e, fuzz, bench,
# check-style, clean.  BUILD=dir puts every artefact under dir.

BUILD    ?= build
PORT     ?= 8080
CC       ?= cc

WARN      = -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
            -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -fPIC $(WARN) -D_GNU_SOURCE -Icore
# core/*.cc: C++ only where a C++ library is used (tt_tz_cctz.cc: cctz)
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=gnu++17 -fPIC -D_GNU_SOURCE -Icore \
            $(filter-out -Wstrict-prototypes -Wmissing-prototypes,$(WARN))
# CFLAGS may come from the environment (scripts/e2e-asan.sh): with what is
# added above it must not reach nginx's own make (the module's build)
unexport CFLAGS CXXFLAGS

LIBS      = -llmdb -lyajl -lcrypto -labsl_time_zone -lstdc++ -lm
AV_LIBS   = -lavformat -lavcodec -lavutil
# tiktok-admin runs as one command among many (a script adding profiles):
# its libraries come from their archives, so that its start maps and
# relocates little (about 1 ms of CPU less than with ten shared objects).
# libcrypto stays shared: Debian's security updates of OpenSSL must reach
# it without a rebuild.  A sanitizer's build links them as the others do
ADMIN_LIBS = -Wl,-Bstatic -llmdb -lyajl_s -labsl_time_zone -lstdc++ \
             -Wl,-Bdynamic -lcrypto -static-libgcc -lm
ifneq (,$(findstring -fsanitize,$(CFLAGS)))
ADMIN_LIBS = $(LIBS)
endif
SAN       = -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=all

CORE_SRCS  = $(filter-out core/tt_media_probe.c,$(wildcard core/*.c))
CORE_HDRS  = $(wildcard core/*.h)
CORE_CXX   = $(wildcard core/*.cc)
CORE_OBJS  = $(CORE_SRCS:core/%.c=$(BUILD)/core/%.o) \
             $(CORE_CXX:core/%.cc=$(BUILD)/core/%.o)
ASAN_OBJS  = $(CORE_SRCS:core/%.c=$(BUILD)/asan/core/%.o) \
             $(CORE_CXX:core/%.cc=$(BUILD)/asan/core/%.o)
SCHED_SRCS = $(wildcard scheduler/*.c)
TEST_SRCS  = $(wildcard tests/test_*.c)
TESTS      = $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
ASAN_TESTS = $(TEST_SRCS:tests/%.c=$(BUILD)/asan/tests/%)

MODULE     = $(BUILD)/nginx/objs/ngx_http_tiktok_module.so
SCHEDULER  = $(BUILD)/tiktok-scheduler
ADMIN      = $(BUILD)/tiktok-admin

.PHONY: all deps module scheduler unit unit-asan e2e test run fuzz bench \
        bench-queue bench-queue-store bench-queue-http check-style clean \
        install mutate fuzz-long e2e-asan valgrind crash-loop soak \
        nginx-restart

all: module scheduler

deps:
	@sh scripts/deps.sh
	@BUILD=$(BUILD) sh scripts/www-deps.sh

# every object and test binary depends on the files it includes (-MMD -MP:
# the .d files read below), so that a change to one header rebuilds only
# its users; and on this Makefile (its flags; a tree built before the .d
# files existed is built again once)
DEPS = -MMD -MP -MF $@.d -MT $@

$(BUILD)/core/%.o: core/%.c Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPS) -c -o $@ $<

$(BUILD)/asan/core/%.o: core/%.c Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) $(DEPS) -c -o $@ $<

$(BUILD)/core/%.o: core/%.cc Makefile
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(DEPS) -c -o $@ $<

$(BUILD)/asan/core/%.o: core/%.cc Makefile
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(SAN) $(DEPS) -c -o $@ $<

$(BUILD)/libttcore.a: $(CORE_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/libttcore.a: $(ASAN_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/core/tt_media_probe.o: core/tt_media_probe.c Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPS) -c -o $@ $<

$(BUILD)/asan/core/tt_media_probe.o: core/tt_media_probe.c Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) $(DEPS) -c -o $@ $<

# unit tests: one binary per tests/test_*.c, each with the media probe
# (the one part of core/ that needs libav)
MEDIA_OBJ      = $(BUILD)/core/tt_media_probe.o
ASAN_MEDIA_OBJ = $(BUILD)/asan/core/tt_media_probe.o

# -MMD -MP: a test binary depends on every file it includes (several
# include scheduler sources whole); the .d files are read below
$(BUILD)/tests/%: tests/%.c $(BUILD)/libttcore.a $(MEDIA_OBJ) Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPS) -Itests -o $@ $< $(MEDIA_OBJ) \
	    $(BUILD)/libttcore.a -lcmocka $(LIBS) $(AV_LIBS)

$(BUILD)/asan/tests/%: tests/%.c $(BUILD)/asan/libttcore.a $(ASAN_MEDIA_OBJ) \
                       Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) $(DEPS) -Itests -o $@ $< \
	    $(ASAN_MEDIA_OBJ) $(BUILD)/asan/libttcore.a -lcmocka $(LIBS) \
	    $(AV_LIBS)

-include $(CORE_OBJS:=.d) $(ASAN_OBJS:=.d) $(MEDIA_OBJ:=.d) \
         $(ASAN_MEDIA_OBJ:=.d) $(TESTS:=.d) $(ASAN_TESTS:=.d)

# the daemon, and the admin tool (tools/); neither links libav, the probe is a
# child process
$(SCHEDULER): $(SCHED_SRCS) $(wildcard scheduler/*.h) $(BUILD)/libttcore.a
	$(CC) $(CFLAGS) -o $@ $(SCHED_SRCS) $(BUILD)/libttcore.a -lcurl $(LIBS)

ADMIN_SRCS = tools/tiktok_admin.c tools/tiktok_admin_backup.c \
             tools/tiktok_admin_profile.c

$(ADMIN): $(ADMIN_SRCS) tools/tiktok_admin.h $(BUILD)/libttcore.a
	$(CC) $(CFLAGS) -Itools -o $@ $(ADMIN_SRCS) $(BUILD)/libttcore.a \
	    $(ADMIN_LIBS)

# the media probe runs as a child process of the daemon: a slow or hostile
# file never stalls the daemon's loop, and a crash in a demuxer stays there
PROBE      = $(BUILD)/tiktok-probe

$(PROBE): tools/tiktok_probe.c $(MEDIA_OBJ) $(BUILD)/libttcore.a
	$(CC) $(CFLAGS) -o $@ $< $(MEDIA_OBJ) $(BUILD)/libttcore.a \
	    $(LIBS) $(AV_LIBS)

# media downloads run as child processes too: their bytes never take turns
# with the uploads in the daemon's loop
FETCH      = $(BUILD)/tiktok-fetch

$(FETCH): tools/tiktok_fetch.c scheduler/sched_fetch.h $(BUILD)/libttcore.a
	$(CC) $(CFLAGS) -Ischeduler -o $@ $< $(BUILD)/libttcore.a -lcurl $(LIBS)

scheduler: $(SCHEDULER) $(ADMIN) $(PROBE) $(FETCH)

# the nginx dynamic module, against Debian's nginx source (nginx-dev)
$(MODULE): config $(wildcard ngx_tiktok_module/*) $(CORE_SRCS) $(CORE_CXX) \
           $(CORE_HDRS) scripts/build-module.sh
	sh scripts/build-module.sh $(BUILD)/nginx

module: $(MODULE)

unit: $(TESTS)
	@sh scripts/run-unit.sh $(TESTS)

unit-asan: $(ASAN_TESTS)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    sh scripts/run-unit.sh $(ASAN_TESTS)

e2e: all
	TT_BUILD=$(abspath $(BUILD)) prove -r t/

test: deps
	$(MAKE) all unit unit-asan check-style
	$(MAKE) e2e

run: deps
	$(MAKE) all
	PORT=$(PORT) TT_BUILD=$(abspath $(BUILD)) sh scripts/run.sh

# the whole e2e suite on a build with ASan and UBSan (module, scheduler,
# tools) in BUILD_ASAN, t/www.t's driver installed there too; nginx loads
# the sanitized module with the runtimes preloaded (scripts/e2e-asan.sh)
BUILD_ASAN ?= $(BUILD)-asan
e2e-asan: deps
	@BUILD=$(BUILD_ASAN) sh scripts/www-deps.sh
	sh scripts/e2e-asan.sh $(BUILD_ASAN)

# valgrind's memcheck on the scheduler: publish, refresh, downloads
valgrind:
	sh scripts/valgrind.sh $(BUILD)

# 1,000 posts of every kind, the scheduler killed 50 times, each kill
# aimed at a moment (a chunk, a refresh, a download, a commit in flight),
# the ledger checked (bench/crash_loop.pl; POSTS=, KILLS=, SPREAD=, SEED=)
CRASH_HOLD = $(BUILD)/crash_hold.so

$(CRASH_HOLD): bench/crash_hold.c Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -o $@ $< -ldl

crash-loop: all $(CRASH_HOLD)
	TT_BUILD=$(abspath $(BUILD)) perl bench/crash_loop.pl

# the same posts with TikTok misbehaving: every post published or failed
# with a reason, none stuck, none twice
soak: all
	MODE=soak TT_BUILD=$(abspath $(BUILD)) perl bench/crash_loop.pl

# nginx reloaded 5 times under wrk's writes, then every nginx process
# killed and started again: every acknowledged post in the store
nginx-restart: all
	TT_BUILD=$(abspath $(BUILD)) perl bench/nginx_restart.pl

# mutation testing of the rules (tests/mutants.txt), in a copy of the tree;
# not part of make test (about a minute a mutant on 2 cores)
mutate:
	sh scripts/mutate.sh $(MUTANTS)

FUZZ_SECONDS ?= 60
fuzz:
	sh scripts/fuzz.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

# every target for FUZZ_EACH seconds (10 minutes by default)
FUZZ_EACH ?= 600
fuzz-long:
	FUZZ_EACH=$(FUZZ_EACH) sh scripts/fuzz.sh $(BUILD)/fuzz $(FUZZ_EACH)

bench: deps
	$(MAKE) all
	TT_BUILD=$(abspath $(BUILD)) sh bench/run.sh

# the queue's slot arithmetic alone, 10,000 posts (figures in README.md)
QUEUE_BENCH = $(BUILD)/queue_bench

$(QUEUE_BENCH): bench/queue_bench.c $(BUILD)/libttcore.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libttcore.a $(LIBS)

bench-queue: $(QUEUE_BENCH)
	$(QUEUE_BENCH)

# queues in the store: 10,000 posts slotted, re-arranged, next_slot
QUEUE_STORE_BENCH = $(BUILD)/queue_store_bench

$(QUEUE_STORE_BENCH): bench/queue_store_bench.c $(BUILD)/libttcore.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libttcore.a $(LIBS)

bench-queue-store: $(QUEUE_STORE_BENCH)
	$(QUEUE_STORE_BENCH)

# queued against exact-time creates through HTTP, one nginx, one run
bench-queue-http: deps
	$(MAKE) all
	TT_BUILD=$(abspath $(BUILD)) sh bench/queue_http.sh

# as Debian's libnginx-mod-* packages lay a module out: the .so in nginx's
# modules path, a load_module snippet in modules-available (linked from
# /etc/nginx/modules-enabled by hand, see conf/tiktok.conf)
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
NGX_MODDIR  ?= /usr/lib/nginx/modules
NGX_MODCONF ?= /usr/share/nginx/modules-available
UNITDIR     ?= $(PREFIX)/lib/systemd/system
EXAMPLEDIR  ?= $(PREFIX)/share/doc/ngx-tiktok/examples
WWWDIR      ?= $(PREFIX)/share/ngx-tiktok/www
STORE_DIR   ?= /var/lib/tiktok

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(NGX_MODDIR) \
	    $(DESTDIR)$(NGX_MODCONF) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(EXAMPLEDIR)
	install -m 755 $(SCHEDULER) $(ADMIN) $(PROBE) $(FETCH) \
	    $(DESTDIR)$(BINDIR)/
	install -m 644 $(MODULE) $(DESTDIR)$(NGX_MODDIR)/
	install -m 644 conf/mod-http-tiktok.conf $(DESTDIR)$(NGX_MODCONF)/
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@STORE@|$(STORE_DIR)|g' \
	    -e 's|@STATE_NAME@|$(patsubst /var/lib/%,%,$(STORE_DIR))|g' \
	    conf/tiktok-scheduler.service.in \
	    > $(DESTDIR)$(UNITDIR)/tiktok-scheduler.service
	chmod 644 $(DESTDIR)$(UNITDIR)/tiktok-scheduler.service
	sed 's|/usr/local/share/ngx-tiktok/www|$(WWWDIR)|' conf/tiktok.conf \
	    > $(DESTDIR)$(EXAMPLEDIR)/tiktok.conf
	chmod 644 $(DESTDIR)$(EXAMPLEDIR)/tiktok.conf
	install -d $(DESTDIR)$(WWWDIR)/vendor
	install -m 644 www/*.* $(DESTDIR)$(WWWDIR)/
	install -m 644 www/vendor/* $(DESTDIR)$(WWWDIR)/vendor/

check-style:
	@sh scripts/check-style.sh

clean:
	rm -rf $(BUILD)
