# otcm - build, run, test.  `make help` lists the targets.

CC       ?= cc
PREFIX   ?= /usr/local
PKGS      = libmicrohttpd libgit2 libpq jansson libxml-2.0 libarchive libcrypto libssl libcurl ldap lber

ifdef SANITIZE
BUILD    ?= build/sanitize
SANFLAGS  = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD    ?= build
SANFLAGS  =
endif

WARN      = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wformat-security -Wvla -Wpointer-arith -Wundef -Wcast-align \
            -Wno-unused-parameter
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) -I. -MMD -MP \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
LDFLAGS  += $(SANFLAGS)

MODULES   = core diff storage domain web server agent
SRC       = $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
GEN_SRC   = $(BUILD)/gen/schema.c $(BUILD)/gen/openapi.c $(BUILD)/gen/static.c
OBJ       = $(SRC:%.c=$(BUILD)/obj/%.o) $(GEN_SRC:%.c=%.o)
LIBOBJ    = $(filter-out $(BUILD)/obj/server/main.o,$(OBJ))
HEADERS   = $(foreach m,$(MODULES),$(wildcard $(m)/*.h))

UNIT_SRC  = $(wildcard tests/unit/*/test_*.c)
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)

FUZZ_SRC  = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN  = $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)

.PHONY: all run test check unit integration e2e check-headers bench fuzz fuzz-run \
        clean install deps deps-test help

all: $(BUILD)/otcm

help:
	@echo "make run            build, set up a private PostgreSQL under var/ and serve"
	@echo "make test           dependency check, unit, integration and e2e tests (alias: check)"
	@echo "make SANITIZE=address,undefined test   the same under ASan and UBSan"
	@echo "make check-headers  every public header compiles on its own; no include circle"
	@echo "make bench          benchmarks as ratios against reference runs"
	@echo "make fuzz           build the libFuzzer targets (clang); fuzz-run runs each briefly"
	@echo "make install        install build/otcm into \$$(PREFIX)/bin, otcm.service and otcm-agent.service into \$$(UNITDIR)"

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/schema.c: $(sort $(wildcard schema/*.sql)) scripts/embed.sh storage/db.h
	@mkdir -p $(dir $@)
	scripts/embed.sh db_schema db_schema_count storage/db.h $(sort $(wildcard schema/*.sql)) > $@

$(BUILD)/gen/openapi.c: server/openapi.json scripts/embed.sh core/embed.h
	@mkdir -p $(dir $@)
	scripts/embed.sh embed_openapi embed_openapi_count core/embed.h server/openapi.json > $@

$(BUILD)/gen/static.c: $(sort $(wildcard web/static/*)) scripts/embed.sh core/embed.h
	@mkdir -p $(dir $@)
	scripts/embed.sh embed_static embed_static_count core/embed.h $(sort $(wildcard web/static/*)) > $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libotcm.a: $(LIBOBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/otcm: $(BUILD)/obj/server/main.o $(BUILD)/libotcm.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libotcm.a $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libotcm.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libotcm.a $(LDLIBS) -lcmocka

deps:
	@scripts/deps.sh build run

# the browser suite's chromium and node included: `make test` skips no suite
deps-test:
	@scripts/deps.sh build run test e2e

run: deps all
	@scripts/run.sh $(BUILD)/otcm

test check: deps-test all $(UNIT_BIN)
	@scripts/check-includes.py --objects $(BUILD)/obj
	@BUILD=$(BUILD) scripts/test.sh

unit: all $(UNIT_BIN)
	@BUILD=$(BUILD) scripts/test.sh unit

integration: all
	@BUILD=$(BUILD) scripts/test.sh integration

e2e: all
	@BUILD=$(BUILD) scripts/test.sh e2e

check-headers:
	@set -e; for h in $(HEADERS); do \
		printf '#include "%s"\n#include "%s"\n' $$h $$h | \
		$(CC) $(ALL_CFLAGS) -x c -fsyntax-only -MF /dev/null - || { echo "$$h does not compile alone"; exit 1; }; \
	done; echo "$(words $(HEADERS)) headers compile on their own"
	@scripts/check-includes.py

bench: deps-test all $(BUILD)/bench/ref_server $(BUILD)/bench/scale_gen
	@scripts/deps.sh bench
	@BUILD=$(BUILD) bench/run.sh

# the rows of a year of a large plant for bench/scale.sh, hashed by otcm's own code
$(BUILD)/bench/scale_gen: bench/scale_gen.c $(BUILD)/libotcm.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libotcm.a $(LDLIBS)

# the reference server of the benchmarks: bare libmicrohttpd, not part of otcm
$(BUILD)/bench/ref_server: bench/ref_server.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(shell pkg-config --libs libmicrohttpd) -lpthread

# fuzz targets: the library is compiled once with coverage and sanitizers,
# then each target links against it
FUZZ_CFLAGS = -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined -I. \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_OBJ    = $(filter-out build/fuzz/obj/server/main.o,$(SRC:%.c=build/fuzz/obj/%.o)) \
              $(GEN_SRC:$(BUILD)/gen/%.c=build/fuzz/obj/gen/%.o)

build/fuzz/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

build/fuzz/libotcm-fuzz.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c build/fuzz/libotcm-fuzz.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build/fuzz/libotcm-fuzz.a $(LDLIBS)

fuzz: $(FUZZ_BIN)

fuzz-run: fuzz
	@scripts/fuzz.sh $(FUZZ_BIN)

# the binary, and the sandboxed systemd unit with its ExecStart pointing at it
UNITDIR  ?= /etc/systemd/system
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(PREFIX)/share/otcm/opcua
	install -m 0755 $(BUILD)/otcm $(DESTDIR)$(PREFIX)/bin/otcm
	sed 's|@BINDIR@|$(PREFIX)/bin|g' dist/systemd/otcm.service.in > $(DESTDIR)$(UNITDIR)/otcm.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/otcm.service
	sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SHAREDIR@|$(PREFIX)/share/otcm|g' \
		dist/systemd/otcm-agent.service.in > $(DESTDIR)$(UNITDIR)/otcm-agent.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/otcm-agent.service
	install -m 0644 agent/opcua/collect.js agent/opcua/package.json agent/opcua/package-lock.json \
		$(DESTDIR)$(PREFIX)/share/otcm/opcua/

clean:
	rm -rf build

-include $(OBJ:.o=.d)
-include $(wildcard build/fuzz/obj/*/*.d)
