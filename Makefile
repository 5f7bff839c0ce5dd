# postern: a mail-access server (POP3, POP2, RMCP).
#
#   make            build pop3d
#   make demo       build and run a demo server on 127.0.0.1:1110
#   make check      install missing test dependencies (Debian), then run
#                   every test, plainly and under ASan+UBSan
#   make install    PREFIX=/usr/local DESTDIR=
#   make SANITIZE=1 build with AddressSanitizer and UBSan (into build-san/)
#   make PAM=1      build with PAM (userdb = pam; service "pop3") into
#                   build-pam/ (build-pam-san/ with SANITIZE=1)

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
BINDIR		?= $(PREFIX)/bin
MANDIR		?= $(PREFIX)/share/man
SYSCONFDIR	?= /etc
# The per-user state directories (journals) live in $(LOCALSTATEDIR)/lib/postern.
LOCALSTATEDIR	?= /var
DOCDIR		?= $(PREFIX)/share/doc/postern
# /usr/local/lib/systemd/system and /usr/lib/systemd/system are both in
# systemd's search path for system units.
SYSTEMDUNITDIR	?= $(PREFIX)/lib/systemd/system
DESTDIR		?=

CC		?= cc
CFLAGS		?= -O2 -g
WARN		 = -Wall -Wextra -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wformat=2 \
		   -Wwrite-strings -Werror
CPPFLAGS	+= -Iinclude -D_GNU_SOURCE -DSYSCONFDIR=\"$(SYSCONFDIR)\" \
		   -DLOCALSTATEDIR=\"$(LOCALSTATEDIR)\"
LIBS		 = -lcrypt -lcrypto
CHECK_LIBS	 = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

ifeq ($(PAM),1)
B		?= build-pam$(if $(filter 1,$(SANITIZE)),-san)
CPPFLAGS	+= -DPOSTERN_PAM
LIBS		+= -lpam
endif

ifeq ($(SANITIZE),1)
B		?= build-san
SANFLAGS	 = -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=all
else
B		?= build
SANFLAGS	 =
endif

ALL_CFLAGS	 = -std=c99 $(CFLAGS) $(WARN) $(SANFLAGS) -MMD -MP
MAIN_SRC	 = src/main.c src/rmcpd_main.c src/rmcp_main.c
LIB_SRC		 = $(filter-out $(MAIN_SRC), $(wildcard src/*.c))
LIB_OBJ		 = $(LIB_SRC:src/%.c=$(B)/obj/%.o)
UNIT_SRC	 = $(wildcard tests/unit/check_*.c)
UNIT_BIN	 = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all demo check check-deps check-build check-unit check-e2e \
	check-fuzz install clean

PROGS		 = $(B)/pop3d $(if $(wildcard src/rmcpd_main.c),$(B)/rmcpd) \
		   $(if $(wildcard src/rmcp_main.c),$(B)/rmcp)

all: $(PROGS)

$(B)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libpostern.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/pop3d: $(B)/obj/main.o $(B)/libpostern.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/rmcpd: $(B)/obj/rmcpd_main.o $(B)/libpostern.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/rmcp: $(B)/obj/rmcp_main.o $(B)/libpostern.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libpostern.a tests/unit/testutil.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/unit $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< \
	    $(B)/libpostern.a $(LIBS) $(CHECK_LIBS)

demo: all
	./tests/demo.sh $(B)/pop3d

check-deps:
	./tests/deps.sh

check-build: $(PROGS) $(UNIT_BIN)

check-unit: check-build
	./tests/run-unit.sh $(B) $(UNIT_BIN)

check-e2e: check-build
	./tests/e2e/run.sh $(B)

check-fuzz:
	./tests/fuzz/build.sh run 10

# Everything, plainly and under the sanitizers, then one summary line.
check: check-deps
	./tests/check-all.sh

# The units and the inetd line name the installed pop3d: etc/ holds them
# as templates with @SBINDIR@ and @SYSCONFDIR@.  An existing
# postern.conf or pam.d/pop3 is left alone.
UNITS		 = pop3d.socket pop3d.service pop3d-inetd.socket \
		   pop3d-inetd@.service pop2d.socket pop2d-inetd.socket \
		   pop2d-inetd@.service rmcpd.socket rmcpd.service
SUBST		 = sed -e '/^\# Template: /d' -e 's|@SBINDIR@|$(SBINDIR)|g' \
		       -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'
# The example's passwd_file line shows the compiled-in default.
CONF_SUBST	 = sed -e 's|^\#passwd_file = /etc/|\#passwd_file = $(SYSCONFDIR)/|'

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/pam.d $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(SYSTEMDUNITDIR)
	install -d -m 0755 $(DESTDIR)$(LOCALSTATEDIR)/lib/postern
	install -m 0755 $(B)/pop3d $(DESTDIR)$(SBINDIR)/pop3d
	install -m 0644 man/pop3d.8 $(DESTDIR)$(MANDIR)/man8/pop3d.8
	install -m 0755 $(B)/rmcpd $(DESTDIR)$(SBINDIR)/rmcpd
	install -m 0755 $(B)/rmcp $(DESTDIR)$(BINDIR)/rmcp
	install -m 0644 man/rmcpd.8 $(DESTDIR)$(MANDIR)/man8/rmcpd.8
	install -m 0644 man/rmcp.1 $(DESTDIR)$(MANDIR)/man1/rmcp.1
	install -m 0644 man/postern.conf.5 $(DESTDIR)$(MANDIR)/man5/postern.conf.5
	$(CONF_SUBST) etc/postern.conf > $(DESTDIR)$(DOCDIR)/postern.conf.example
	chmod 0644 $(DESTDIR)$(DOCDIR)/postern.conf.example
	$(SUBST) etc/inetd.conf.example > $(DESTDIR)$(DOCDIR)/inetd.conf.example
	chmod 0644 $(DESTDIR)$(DOCDIR)/inetd.conf.example
	$(SUBST) etc/rmcpd.inetd.example > $(DESTDIR)$(DOCDIR)/rmcpd.inetd.example
	chmod 0644 $(DESTDIR)$(DOCDIR)/rmcpd.inetd.example
	for u in $(UNITS); do \
	    $(SUBST) etc/$$u > $(DESTDIR)$(SYSTEMDUNITDIR)/$$u && \
	    chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done
	if [ ! -e $(DESTDIR)$(SYSCONFDIR)/postern.conf ]; then \
	    install -m 0644 $(DESTDIR)$(DOCDIR)/postern.conf.example \
	    $(DESTDIR)$(SYSCONFDIR)/postern.conf; fi
	if [ ! -e $(DESTDIR)$(SYSCONFDIR)/pam.d/pop3 ]; then \
	    install -m 0644 etc/pam.d/pop3 $(DESTDIR)$(SYSCONFDIR)/pam.d/pop3; fi

clean:
	rm -rf build build-san build-pam build-pam-san

-include $(wildcard $(B)/obj/*.d $(B)/tests/*.d)
