# Makefile: builds mpmgrd, libmpmgr, mpctl and the tests; runs, checks and
# installs them. One non-recursive makefile; objects go to $(B)/.
#
#   make            build everything
#   make run        install missing Debian packages, build, start mpmgrd in
#                   the foreground on the per-user default socket
#   make check      install missing Debian packages, build, run every test
#   make deps       install missing Debian packages (apt-get)
#   make install    PREFIX, DESTDIR, BINDIR, SBINDIR, LIBDIR, INCLUDEDIR, MANDIR
#   SANITIZE=1      build everything with ASan+UBSan (into build-san/)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

CC ?= cc
SOVERSION = 0
LIBVERSION = 0.1.0

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
	check libssl-dev libjansson-dev systemd
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
LIB_SRC = client/mpmgr.c
MPCTL_SRC = $(wildcard client/mpctl*.c)
UNIT_SRC = $(filter-out tests/unit_util.c,$(wildcard tests/unit_*.c))
IT_SRC = $(wildcard tests/it_*.c)
HARNESS_SRC = tests/harness.c

obj = $(patsubst %.c,$(B)/%.o,$1)
pic = $(patsubst %.c,$(B)/pic/%.o,$1)

PROTO_OBJ = $(call obj,$(PROTO_SRC))
DAEMON_OBJ = $(call obj,$(filter-out daemon/main.c,$(DAEMON_SRC)))
UNIT_BIN = $(patsubst tests/%.c,$(B)/tests/%,$(UNIT_SRC))
IT_BIN = $(patsubst tests/%.c,$(B)/tests/%,$(IT_SRC))

LIBSO = $(B)/libmpmgr.so.$(LIBVERSION)
PROGS = $(B)/mpmgrd $(B)/mpctl $(B)/libmpmgr.a $(LIBSO) \
	$(B)/libmpmgr.so.$(SOVERSION) $(B)/libmpmgr.so $(B)/libmpmgr.pc

.PHONY: all deps run check test tests clean install uninstall
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

# libmpmgr carries its own copy of proto/ and exports only mpmgr_*.
$(LIBSO): $(call pic,$(LIB_SRC) $(PROTO_SRC)) client/libmpmgr.map
	$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,libmpmgr.so.$(SOVERSION) \
		-Wl,--version-script=client/libmpmgr.map -o $@ \
		$(filter %.o,$^) $(LIBS_PROTO)
$(B)/libmpmgr.so.$(SOVERSION) $(B)/libmpmgr.so: $(LIBSO)
	ln -sf $(notdir $<) $@
$(B)/libmpmgr.a: $(call obj,$(LIB_SRC)) $(PROTO_OBJ)
	rm -f $@
	$(AR) rcs $@ $^
$(B)/libmpmgr.pc: client/libmpmgr.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(LIBVERSION)|g' \
		-e 's|@MSGPACK_PC@|$(MSGPACK_PC)|g' $< > $@

$(B)/mpctl: $(call obj,$(MPCTL_SRC)) $(B)/libmpmgr.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_MPCTL)

# Unit tests link the module under test directly.
$(B)/tests/unit_%: $(B)/tests/unit_%.o $(B)/tests/unit_util.o $(DAEMON_OBJ) \
	$(PROTO_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_CHECK) $(LIBS_DAEMON)
# Integration tests talk to a real mpmgrd through libmpmgr.
$(B)/tests/it_%: $(B)/tests/it_%.o $(call obj,$(HARNESS_SRC)) $(B)/libmpmgr.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_CHECK) $(LIBS_PROTO)

tests: $(PROGS) $(UNIT_BIN) $(IT_BIN)

# Runs every test binary and script; the last line counts them.
test: tests
	@B=$(B) MPMGRD=$(abspath $(B)/mpmgrd) MPCTL=$(abspath $(B)/mpctl) \
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

run: deps
	@$(MAKE) --no-print-directory all
	./$(B)/mpmgrd

check: deps
	@$(MAKE) --no-print-directory test

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(B)/mpmgrd $(DESTDIR)$(SBINDIR)/mpmgrd
	install -m 755 $(B)/mpctl $(DESTDIR)$(BINDIR)/mpctl
	install -m 755 $(LIBSO) $(DESTDIR)$(LIBDIR)/
	ln -sf libmpmgr.so.$(LIBVERSION) $(DESTDIR)$(LIBDIR)/libmpmgr.so.$(SOVERSION)
	ln -sf libmpmgr.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libmpmgr.so
	install -m 644 $(B)/libmpmgr.a $(DESTDIR)$(LIBDIR)/
	install -m 644 client/mpmgr.h $(DESTDIR)$(INCLUDEDIR)/mpmgr.h
	install -m 644 $(B)/libmpmgr.pc $(DESTDIR)$(PKGCONFIGDIR)/libmpmgr.pc

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/mpmgrd $(DESTDIR)$(BINDIR)/mpctl \
		$(DESTDIR)$(LIBDIR)/libmpmgr.so.$(LIBVERSION) \
		$(DESTDIR)$(LIBDIR)/libmpmgr.so.$(SOVERSION) \
		$(DESTDIR)$(LIBDIR)/libmpmgr.so $(DESTDIR)$(LIBDIR)/libmpmgr.a \
		$(DESTDIR)$(INCLUDEDIR)/mpmgr.h $(DESTDIR)$(PKGCONFIGDIR)/libmpmgr.pc

clean:
	rm -rf build build-san

-include $(shell find $(B) -name '*.d' 2>/dev/null)
