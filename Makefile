# Makefile: builds mpmgrd, libmpmgr, mpctl and the tests; runs, checks and
# installs them. One non-recursive makefile; objects go to $(B)/.
#
#   make            build everything
#   make run        install missing Debian packages, build, start mpmgrd in
#                   the foreground on the per-user default socket, with its
#                   journal in the XDG state directory (objects persist)
#   make check      install missing Debian packages, build, run every test
#   make deps       install missing Debian packages (apt-get)
#   make bench      also install redis-server, redis-tools, hyperfine and
#                   parallel, build, and race mpmgrd against Redis
#                   (bench/run.sh), the Python package against CPython's
#                   (bench/python.py), pools against CPython's Pool, xargs
#                   and GNU parallel (bench/pool.py), the journal against
#                   Redis's AOF (bench/journal.sh); QUICK=1 for a fast
#                   pass, PERF=1 to profile mpmgrd
#   make install    PREFIX, DESTDIR, BINDIR, LIBDIR, INCLUDEDIR, DATADIR,
#                   MANDIR, BASHCOMPDIR, SYSTEMDSYSTEMUNITDIR,
#                   SYSTEMDUSERUNITDIR, SYSUSERSDIR, TMPFILESDIR, LDCONFIG
#                   (make uninstall takes the same)
#   SANITIZE=1      build everything with ASan+UBSan (into build-san/)

# mpmgrd goes to bin, not sbin: users start daemons of their own.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# bash-completion looks there (XDG_DATA_DIRS) for a command's script.
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
LDCONFIG ?= ldconfig

# systemd's directories under PREFIX, as systemd's pkg-config file places
# them (asked only when install or uninstall runs), else the usual ones.
sd_dir = $(or $(call cache,sd_$1,pkg-config --variable=$1 \
	--define-variable=prefix=$(PREFIX) \
	--define-variable=root_prefix=$(PREFIX) systemd 2>/dev/null),$2)
SYSTEMDSYSTEMUNITDIR ?= $(call sd_dir,systemdsystemunitdir,$(PREFIX)/lib/systemd/system)
SYSTEMDUSERUNITDIR ?= $(call sd_dir,systemduserunitdir,$(PREFIX)/lib/systemd/user)
SYSUSERSDIR ?= $(call sd_dir,sysusersdir,$(PREFIX)/lib/sysusers.d)
TMPFILESDIR ?= $(call sd_dir,tmpfilesdir,$(PREFIX)/lib/tmpfiles.d)
# The installed libmpmgr.pc and units name the directories given to `make
# install`, whatever PREFIX the tree was built with.
INSTALL_PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(LIBVERSION)|g' \
	-e 's|@MSGPACK_PC@|$(MSGPACK_PC)|g'
INSTALL_UNIT_SED = sed -e 's|@BINDIR@|$(BINDIR)|g'

CC ?= cc
OBJCOPY ?= objcopy
SOVERSION = 0
# The release, as proto/mpmgr_proto.h writes it (the one place).
version_part = $(shell sed -n 's/^\#define MPMGR_VERSION_$1 \([0-9]*\)$$/\1/p' \
	proto/mpmgr_proto.h)
LIBVERSION := $(call version_part,MAJOR).$(call version_part,MINOR).$(call \
	version_part,PATCH)

ifeq ($(SANITIZE),1)
B ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
else
B ?= build
SANFLAGS =
endif

# Debian packages the build and the tests need (make deps installs them).
DEB_PKGS = gcc make pkg-config libevent-dev libmsgpack-dev libsystemd-dev \
	check libssl-dev libjansson-dev systemd mandoc
# Only `make bench` installs these: the comparison with Redis.
BENCH_PKGS = redis-server redis-tools hyperfine
SUDO = $(if $(filter 0,$(shell id -u)),,sudo)

# pkg-config, probed once and only when a rule needs it (so that `make deps`
# works before pkg-config is installed). msgpack's module is `msgpack` on
# Debian 12 and `msgpack-c` upstream.
cache = $(if $(filter undefined,$(origin _c_$1)),$(eval _c_$1 := $(shell $2)))$(_c_$1)
MSGPACK_PC = $(call cache,mp,pkg-config --exists msgpack-c && echo msgpack-c || echo msgpack)

WARN = -Wall -Wextra -Werror -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wpointer-arith -Wshadow -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) -MMD -MP \
	$(call cache,cflags,pkg-config --cflags libevent $(MSGPACK_PC) libsystemd \
		openssl jansson check)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

LIBS_PROTO = $(call cache,lproto,pkg-config --libs $(MSGPACK_PC) libcrypto)
LIBS_DAEMON = $(call cache,ldaemon,pkg-config --libs libevent libsystemd) \
	$(LIBS_PROTO)
LIBS_MPCTL = $(call cache,lmpctl,pkg-config --libs jansson) $(LIBS_PROTO)
LIBS_CHECK = $(call cache,lcheck,pkg-config --libs check)

PROTO_SRC = $(wildcard proto/*.c)
DAEMON_SRC = $(wildcard daemon/*.c)
LIB_SRC = client/mpmgr.c client/mpmgr_notify.c client/mpmgr_typed.c
MPCTL_SRC = $(wildcard client/mpctl*.c)
MPBENCH_SRC = client/mpbench.c
UNIT_SRC = $(filter-out tests/unit_util.c,$(wildcard tests/unit_*.c))
IT_SRC = $(wildcard tests/it_*.c)
HARNESS_SRC = tests/harness_daemon.c tests/harness_client.c \
	tests/harness_notation.c

obj = $(patsubst %.c,$(B)/%.o,$1)
pic = $(patsubst %.c,$(B)/pic/%.o,$1)

PROTO_OBJ = $(call obj,$(PROTO_SRC))
DAEMON_OBJ = $(call obj,$(filter-out daemon/main.c,$(DAEMON_SRC)))
UNIT_BIN = $(patsubst tests/%.c,$(B)/tests/%,$(UNIT_SRC))
IT_BIN = $(patsubst tests/%.c,$(B)/tests/%,$(IT_SRC))

LIBSO = $(B)/libmpmgr.so.$(LIBVERSION)
PROGS = $(B)/mpmgrd $(B)/mpctl $(B)/mpbench $(B)/libmpmgr.a $(LIBSO) \
	$(B)/libmpmgr.so.$(SOVERSION) $(B)/libmpmgr.so $(B)/libmpmgr.pc

.PHONY: all deps run check test tests clean install uninstall bench
.DELETE_ON_ERROR:
.SECONDARY:

all: $(PROGS)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(B)/mpmgrd: $(B)/daemon/main.o $(DAEMON_OBJ) $(PROTO_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_DAEMON)

# libmpmgr carries its own copy of proto/ (less the method catalogue, whose
# names it takes at compile time) and gives programs only mpmgr_* symbols:
# the .so through its version script; the archive as one object linked
# relocatably from the others, in which objcopy makes every other global
# local, so that a static user may have a buf_init or scan_frame of its own.
# tests/it_install.sh holds both to that.
LIB_PROTO_SRC = $(filter-out proto/catalogue.c,$(PROTO_SRC))
$(LIBSO): $(call pic,$(LIB_SRC) $(LIB_PROTO_SRC)) client/libmpmgr.map
	$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,libmpmgr.so.$(SOVERSION) \
		-Wl,--version-script=client/libmpmgr.map -o $@ \
		$(filter %.o,$^) $(LIBS_PROTO)
$(B)/libmpmgr.so.$(SOVERSION) $(B)/libmpmgr.so: $(LIBSO)
	ln -sf $(notdir $<) $@
$(B)/libmpmgr.a: $(call obj,$(LIB_SRC) $(LIB_PROTO_SRC))
	rm -f $@ $(B)/libmpmgr.o
	$(LD) -r -o $(B)/libmpmgr.o $^
	$(OBJCOPY) --wildcard --keep-global-symbol='mpmgr_*' $(B)/libmpmgr.o
	$(AR) rcs $@ $(B)/libmpmgr.o
	rm -f $(B)/libmpmgr.o
$(B)/libmpmgr.pc: client/libmpmgr.pc.in
	$(INSTALL_PC_SED) $< > $@

# mpctl walks the catalogue at run time, resolves the socket's and key's
# paths for its messages and checks text as UTF-8 as the daemon does: it
# links proto's copies of those (libmpmgr.a's are hidden inside it).
MPCTL_PROTO = $(B)/proto/catalogue.o $(B)/proto/paths.o $(B)/proto/scan.o \
	$(B)/proto/buf.o
$(B)/mpctl: $(call obj,$(MPCTL_SRC)) $(MPCTL_PROTO) $(B)/libmpmgr.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_MPCTL)

$(B)/mpbench: $(call obj,$(MPBENCH_SRC)) $(B)/libmpmgr.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_PROTO)

# The floor of the comparison: a raw AF_UNIX ping-pong, linked with nothing.
$(B)/floor: $(B)/bench/floor.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^

# How long a client waits while another floods the daemon (bench/stall.c).
$(B)/stall: $(B)/bench/stall.o $(B)/libmpmgr.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_PROTO)

# Messages through a pipe of mpmgrd's, and through a socketpair.
$(B)/pipebench: $(B)/bench/pipe.o $(B)/libmpmgr.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_PROTO)

# Unit tests link the module under test directly, and the tests' value
# notation.
$(B)/tests/unit_%: $(B)/tests/unit_%.o $(B)/tests/unit_util.o \
	$(B)/tests/harness_notation.o $(DAEMON_OBJ) $(PROTO_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_CHECK) $(LIBS_DAEMON)
# Integration tests talk to a real mpmgrd through libmpmgr, and raw through
# proto/ (the library's copy of it is hidden).
$(B)/tests/it_%: $(B)/tests/it_%.o $(call obj,$(HARNESS_SRC)) $(PROTO_OBJ) \
	$(B)/libmpmgr.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_CHECK) $(LIBS_PROTO)

tests: $(PROGS) $(UNIT_BIN) $(IT_BIN)

# Runs every test binary and script; the last line counts them.
# Check's per-test timeouts (4 s by default) are for a plain build: ASan
# runs the same tests several times slower, more on a busy machine.
CK_TIMEOUT_MULTIPLIER ?= $(if $(filter 1,$(SANITIZE)),4,1)

test: tests
	@CK_TIMEOUT_MULTIPLIER=$(CK_TIMEOUT_MULTIPLIER) B=$(B) MPMGRD=$(abspath $(B)/mpmgrd) MPCTL=$(abspath $(B)/mpctl) \
		sh tests/run.sh $(UNIT_BIN) $(IT_BIN) $(wildcard tests/it_*.sh)

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
			--no-install-recommends $$missing; \
	fi

# The user's state directory, as the user unit's: objects survive restarts.
RUN_DATA_DIR = $${XDG_STATE_HOME:-$$HOME/.local/state}/mpmgr

run: deps
	@$(MAKE) --no-print-directory all
	./$(B)/mpmgrd --data-dir "$(RUN_DATA_DIR)"

check: deps
	@$(MAKE) --no-print-directory test

# Speed is measured here, never asserted by make check.
bench: deps
	@$(MAKE) --no-print-directory DEB_PKGS="$(BENCH_PKGS)" deps
	@$(MAKE) --no-print-directory $(B)/mpmgrd $(B)/mpctl $(B)/mpbench \
		$(B)/floor $(B)/stall $(B)/pipebench
	MPMGRD=$(abspath $(B)/mpmgrd) MPCTL=$(abspath $(B)/mpctl) \
		MPBENCH=$(abspath $(B)/mpbench) FLOOR=$(abspath $(B)/floor) \
		STALL=$(abspath $(B)/stall) PIPEBENCH=$(abspath $(B)/pipebench) \
		bash bench/run.sh
	MPMGRD=$(abspath $(B)/mpmgrd) MPCTL=$(abspath $(B)/mpctl) \
		MPBENCH=$(abspath $(B)/mpbench) bash bench/journal.sh

# The directories install writes to. The ones it has to create (with
# their missing parents, below DESTDIR) are recorded in INSTALLED_DIRS, so
# that uninstall removes them again once empty, and nothing that was there
# before. install-python (below) puts its files in them too.
INSTALL_DIRS = $(BINDIR) $(LIBDIR) $(INCLUDEDIR) $(PKGCONFIGDIR) \
	$(MANDIR)/man1 $(MANDIR)/man3 $(MANDIR)/man8 $(BASHCOMPDIR) \
	$(SYSTEMDSYSTEMUNITDIR) $(SYSTEMDUSERUNITDIR) $(SYSUSERSDIR) \
	$(TMPFILESDIR) $(DATADIR)/mpmgr $(PYTHONDIR)/mpmgr
INSTALLED_DIRS = $(DATADIR)/mpmgr/installed-dirs
INSTALLED_FILES = $(BINDIR)/mpmgrd $(BINDIR)/mpctl \
	$(LIBDIR)/libmpmgr.so.$(LIBVERSION) $(LIBDIR)/libmpmgr.so.$(SOVERSION) \
	$(LIBDIR)/libmpmgr.so $(LIBDIR)/libmpmgr.a $(INCLUDEDIR)/mpmgr.h \
	$(PKGCONFIGDIR)/libmpmgr.pc $(MANDIR)/man1/mpctl.1 \
	$(MANDIR)/man3/libmpmgr.3 $(MANDIR)/man8/mpmgrd.8 \
	$(BASHCOMPDIR)/mpctl $(SYSTEMDSYSTEMUNITDIR)/mpmgrd.service \
	$(SYSTEMDSYSTEMUNITDIR)/mpmgrd.socket \
	$(SYSTEMDUSERUNITDIR)/mpmgrd.service \
	$(SYSTEMDUSERUNITDIR)/mpmgrd.socket $(SYSUSERSDIR)/mpmgr.conf \
	$(TMPFILESDIR)/mpmgr.conf

.PHONY: install-dirs
install-dirs:
	@new=; for d in $(INSTALL_DIRS); do \
		while [ "$$d" != / ] && [ ! -d "$(DESTDIR)$$d" ]; do \
			new="$$new $$d"; d=$$(dirname "$$d"); \
		done; \
	done; \
	install -d $(addprefix $(DESTDIR),$(INSTALL_DIRS)) && \
	for d in $$new; do echo "$$d"; done | \
		cat - "$(DESTDIR)$(INSTALLED_DIRS)" 2>/dev/null | sort -u \
		> "$(DESTDIR)$(INSTALLED_DIRS).new" && \
	mv "$(DESTDIR)$(INSTALLED_DIRS).new" "$(DESTDIR)$(INSTALLED_DIRS)" && \
	chmod 644 "$(DESTDIR)$(INSTALLED_DIRS)"

install: all install-dirs
	install -m 755 $(B)/mpmgrd $(DESTDIR)$(BINDIR)/mpmgrd
	@# An earlier install put mpmgrd in sbin, which comes first in root's
	@# PATH: it goes.
	rm -f $(DESTDIR)$(PREFIX)/sbin/mpmgrd
	install -m 755 $(B)/mpctl $(DESTDIR)$(BINDIR)/mpctl
	install -m 755 $(LIBSO) $(DESTDIR)$(LIBDIR)/
	ln -sf libmpmgr.so.$(LIBVERSION) $(DESTDIR)$(LIBDIR)/libmpmgr.so.$(SOVERSION)
	ln -sf libmpmgr.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libmpmgr.so
	install -m 644 $(B)/libmpmgr.a $(DESTDIR)$(LIBDIR)/
	install -m 644 client/mpmgr.h $(DESTDIR)$(INCLUDEDIR)/mpmgr.h
	$(INSTALL_PC_SED) client/libmpmgr.pc.in \
		> $(DESTDIR)$(PKGCONFIGDIR)/libmpmgr.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/libmpmgr.pc
	install -m 644 man/mpctl.1 $(DESTDIR)$(MANDIR)/man1/mpctl.1
	install -m 644 man/libmpmgr.3 $(DESTDIR)$(MANDIR)/man3/libmpmgr.3
	install -m 644 man/mpmgrd.8 $(DESTDIR)$(MANDIR)/man8/mpmgrd.8
	install -m 644 client/mpctl.bash $(DESTDIR)$(BASHCOMPDIR)/mpctl
	$(INSTALL_UNIT_SED) systemd/mpmgrd.service.in \
		> $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/mpmgrd.service
	$(INSTALL_UNIT_SED) systemd/user/mpmgrd.service.in \
		> $(DESTDIR)$(SYSTEMDUSERUNITDIR)/mpmgrd.service
	chmod 644 $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/mpmgrd.service \
		$(DESTDIR)$(SYSTEMDUSERUNITDIR)/mpmgrd.service
	install -m 644 systemd/mpmgrd.socket \
		$(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/mpmgrd.socket
	install -m 644 systemd/user/mpmgrd.socket \
		$(DESTDIR)$(SYSTEMDUSERUNITDIR)/mpmgrd.socket
	install -m 644 systemd/mpmgr.sysusers $(DESTDIR)$(SYSUSERSDIR)/mpmgr.conf
	install -m 644 systemd/mpmgr.tmpfiles $(DESTDIR)$(TMPFILESDIR)/mpmgr.conf
	@# On the live system the dynamic linker's cache must learn the new
	@# library, or programs built against it do not start.
	@if [ -n "$(DESTDIR)" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then echo "$(LDCONFIG)"; $(LDCONFIG); \
	else echo "make install: not root, so ldconfig was not run: give" \
		"programs LD_LIBRARY_PATH=$(LIBDIR) unless it is searched"; \
	fi

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED_FILES))
	@# Deepest first: a directory's own directories before it.
	@if [ -f "$(DESTDIR)$(INSTALLED_DIRS)" ]; then \
		dirs=$$(sort -r "$(DESTDIR)$(INSTALLED_DIRS)"); \
		rm -f "$(DESTDIR)$(INSTALLED_DIRS)"; \
		for d in $$dirs; do \
			rmdir "$(DESTDIR)$$d" 2>/dev/null && \
				echo "rmdir $(DESTDIR)$$d"; \
		done; \
	fi; true

# Fuzzing (never part of make check): libFuzzer targets built with clang into
# $(FB)/, each run FUZZ_SECONDS on its corpus there, seeded from the frames
# below (requests as MessagePack, in printf's octal escapes).
FB = build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CC = clang
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -MMD -MP \
	$(call cache,cflags,pkg-config --cflags libevent $(MSGPACK_PC) libsystemd \
		openssl jansson check)
FUZZ_PROTO_OBJ = $(patsubst %.c,$(FB)/%.o,$(PROTO_SRC))
FUZZ_DAEMON_OBJ = $(patsubst %.c,$(FB)/%.o,$(filter-out daemon/main.c,$(DAEMON_SRC)))
FUZZ_SEEDS = dict queue lock value sys pipe process
fuzz_seed_dict = \224\000\001\250dict.set\223\241d\241k\001\224\000\002\250dict.get\222\241d\241k\224\000\003\252obj.delete\221\241d
fuzz_seed_queue = \224\000\001\251queue.put\222\241q\225\001\376\241x\201\241a\300\313\077\370\000\000\000\000\000\000\224\000\002\251queue.get\221\241q
fuzz_seed_lock = \224\000\001\254lock.acquire\221\241l\224\000\002\254lock.release\221\241l
fuzz_seed_value = \224\000\001\252value.incr\222\241v\005\224\000\002\251value.cas\223\241v\005\303
fuzz_seed_sys = \224\000\001\251sys.stats\220\224\000\002\250obj.scan\221\000
fuzz_seed_pipe = \224\000\001\251pipe.send\223\241p\000\241x\224\000\002\251pipe.recv\223\241p\001\000\224\000\003\252pipe.close\222\241p\000\224\000\004\254pipe.handoff\223\241p\001\313?\340\000\000\000\000\000\000
fuzz_seed_process = \224\000\001\260process.register\222\241r\202\243pid\005\244argv\221\241x\224\000\002\261process.terminate\221\241r\224\000\003\256process.exited\222\241r\367\224\000\004\256queue.shutdown\222\241q\303

.PHONY: fuzz fuzz-live
fuzz: $(FB)/fuzz_frame $(FB)/fuzz_dispatch $(FB)/corpus/.seeded fuzz-live
	$(FB)/fuzz_frame -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$(FB)/frame- $(FB)/corpus/frame
	$(FB)/fuzz_dispatch -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$(FB)/dispatch- $(FB)/corpus/dispatch

# The live daemon over its socket (tests/fuzz_live.c): an ASan+UBSan
# mpmgrd from build-san/, driven by a generator for FUZZ_SECONDS
# (FUZZ_SEED replays a run).
fuzz-live: $(FB)/fuzz_live
	@$(MAKE) --no-print-directory SANITIZE=1 build-san/mpmgrd
	$(FB)/fuzz_live -d build-san/mpmgrd -t $(FUZZ_SECONDS) \
		$(if $(FUZZ_SEED),-s $(FUZZ_SEED))

# fuzz_frame reads its first byte as the chunk size (\003: 4 bytes).
$(FB)/corpus/.seeded:
	@mkdir -p $(FB)/corpus/frame $(FB)/corpus/dispatch
	@$(foreach s,$(FUZZ_SEEDS),printf '$(fuzz_seed_$s)' \
		> $(FB)/corpus/dispatch/seed_$s && printf '\003$(fuzz_seed_$s)' \
		> $(FB)/corpus/frame/seed_$s &&) true
	@touch $@

$(FB)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FB)/fuzz_frame: $(FB)/tests/fuzz_frame.o $(FUZZ_PROTO_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ $(LIBS_PROTO)
$(FB)/fuzz_dispatch: $(FB)/tests/fuzz_dispatch.o $(FUZZ_DAEMON_OBJ) \
	$(FUZZ_PROTO_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ $(LIBS_DAEMON)
# A plain program (no libFuzzer: the daemon is another process), built
# with the sanitizers all the same.
FUZZ_LIVE_CFLAGS = $(filter-out -fsanitize=fuzzer%,$(FUZZ_CFLAGS)) \
	-fsanitize=address,undefined
$(FB)/live/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LIVE_CFLAGS) -c -o $@ $<
$(FB)/fuzz_live: $(FB)/live/tests/fuzz_live.o \
	$(patsubst %.c,$(FB)/live/%.o,$(PROTO_SRC))
	$(FUZZ_CC) $(FUZZ_LIVE_CFLAGS) -o $@ $^ $(LIBS_PROTO)

-include $(shell find $(FB) -name '*.d' 2>/dev/null)

clean:
	rm -rf build build-san build-clang build-fuzz

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# --- Python package (client/python) ------------------------------------------
# The mpmgr package for Debian's python3 ($(PY)): the extension
# mpmgr._mpmgr (client/python/src, with libmpmgr and proto compiled in as
# PIC objects, exporting only PyInit__mpmgr) and the modules, laid out in
# $(B)/python so that PYTHONPATH=$(B)/python $(PY) -c 'import mpmgr' works.
# make install puts the package in PYTHONDIR (Debian's dist-packages for
# PREFIX=/usr, else the python3.X one under PREFIX, both on Debian's path);
# `pip install ./client/python` builds the same with setuptools.

PY ?= /usr/bin/python3
PY_INC = $(call cache,pyinc,$(PY) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
PY_SUFFIX = $(call cache,pysfx,$(PY) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
PY_VER = $(call cache,pyver,$(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PYTHONDIR ?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/lib/python3/dist-packages,$(PREFIX)/lib/python$(PY_VER)/dist-packages)

PYEXT_SRC = $(wildcard client/python/src/*.c)
PYMOD_SRC = $(wildcard client/python/mpmgr/*.py)
PYEXT = $(B)/python/mpmgr/_mpmgr$(PY_SUFFIX)
PYMOD = $(patsubst client/python/mpmgr/%,$(B)/python/mpmgr/%,$(PYMOD_SRC))

DEB_PKGS += python3-dev python3-pytest python3-msgpack python3-pip \
	libpython3.11-testsuite
BENCH_PKGS += python3-redis python3-hiredis parallel

.PHONY: python
python: $(PYEXT) $(PYMOD)
all: python
tests: python

# The extension's objects, libmpmgr and proto included, are its own: PIC,
# Python.h as a system header (its code is not held to our warnings), and
# never sanitized. Under SANITIZE=1 an instrumented extension needs ASan's
# runtime preloaded into python3, and gcc 12's ASan allocator is not
# fork-safe: a child forked while another thread allocates (CPython's
# manager tests do that) hangs on its lock. The daemon and libmpmgr the
# tests run are sanitized as ever.
PYEXT_OBJ = $(patsubst %.c,$(B)/python/obj/%.o,$(PYEXT_SRC) $(LIB_SRC) $(PROTO_SRC))
PYEXT_CFLAGS = $(filter-out $(SANFLAGS),$(ALL_CFLAGS)) -fPIC \
	-isystem $(PY_INC) -Iclient

$(B)/python/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(PYEXT_CFLAGS) -c -o $@ $<

$(PYEXT): $(PYEXT_OBJ) client/python/mpmgr.map
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -shared -Wl,--version-script=client/python/mpmgr.map \
		-o $@ $(PYEXT_OBJ) $(LIBS_PROTO)

$(B)/python/mpmgr/%.py: client/python/mpmgr/%.py
	@mkdir -p $(@D)
	cp $< $@

# make bench also races the Python package (bench/python.py: mpmgr against
# CPython's Manager, redis-py with hiredis and libmpmgr from C); it needs
# the bench packages and runs before the daemon's race (bench/run.sh).
bench: bench-python
.PHONY: bench-python
bench-python: deps
	@$(MAKE) --no-print-directory DEB_PKGS="$(BENCH_PKGS)" deps
	@$(MAKE) --no-print-directory python $(B)/mpmgrd $(B)/mpbench
	PYTHONPATH=$(abspath $(B)/python) MPMGRD=$(abspath $(B)/mpmgrd) \
		MPBENCH=$(abspath $(B)/mpbench) $(PY) bench/python.py

# and pools (bench/pool.py: mpmgr.Pool.map against multiprocessing.Pool.map,
# mpctl pool map against xargs -P and GNU parallel).
bench: bench-pool
.PHONY: bench-pool
bench-pool: deps
	@$(MAKE) --no-print-directory DEB_PKGS="$(BENCH_PKGS)" deps
	@$(MAKE) --no-print-directory python $(B)/mpmgrd $(B)/mpctl
	PYTHONPATH=$(abspath $(B)/python) MPMGRD=$(abspath $(B)/mpmgrd) \
		MPCTL=$(abspath $(B)/mpctl) $(PY) bench/pool.py

install: install-python
uninstall: uninstall-python
.PHONY: install-python uninstall-python
install-python: python install-dirs
	install -m 644 $(PYMOD) $(DESTDIR)$(PYTHONDIR)/mpmgr/
	install -m 755 $(PYEXT) $(DESTDIR)$(PYTHONDIR)/mpmgr/
uninstall-python:
	rm -rf $(DESTDIR)$(PYTHONDIR)/mpmgr
