# Postern - one non-recursive GNU make build.
#
# Layout: src/util and src/global become static libraries; every other folder
# under src/ is one program. Programs named in COMMANDS go to build/sbin, the
# rest (daemons) to build/libexec. tests/unit/<layer>/test_<module>.c each
# become one cmocka binary. `make check` runs deps, build, unit tests, the unit
# tests again under ASan+UBSan (a second build in build/asan), and system tests.

BUILD    ?= build
SANITIZE ?=
CC       ?= cc

COMMANDS := postconf postmap postalias postfix postqueue postsuper postcat \
            postdrop sendmail postlog postkick postlock

CPPFLAGS += -Isrc -D_GNU_SOURCE
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wno-format-truncation \
            -fno-strict-aliasing -MMD -MP
LDLIBS   := -llmdb -lpcre2-8 -lm
ifneq ($(SANITIZE),)
CFLAGS   += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

UTIL_SRC   := $(sort $(wildcard src/util/*.c))
GLOBAL_SRC := $(sort $(wildcard src/global/*.c))
PROG_DIRS  := $(filter-out util global,$(notdir $(patsubst %/,%,$(sort $(dir $(wildcard src/*/*.c))))))
UNIT_SRC   := $(sort $(wildcard tests/unit/*/test_*.c))

# Quiet rules unless V=1.
Q := $(if $(V),,@)
obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIBUTIL   := $(BUILD)/lib/libutil.a
LIBGLOBAL := $(BUILD)/lib/libglobal.a
LIBS      := $(LIBGLOBAL) $(LIBUTIL)

prog_path = $(if $(filter $(1),$(COMMANDS)),$(BUILD)/sbin/$(1),$(BUILD)/libexec/$(1))
PROGRAMS  := $(foreach p,$(PROG_DIRS),$(call prog_path,$(p)))
UNIT_BINS := $(patsubst %.c,$(BUILD)/%,$(UNIT_SRC))

.SECONDARY:
.PHONY: all deps check unit unit-asan system system-asan fuzz run bench clean
.DEFAULT_GOAL := all

all: deps $(PROGRAMS) $(UNIT_BINS) links

deps:
	@scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIBUTIL): $(call obj,$(UTIL_SRC))
	@mkdir -p $(@D)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(LIBGLOBAL): $(call obj,$(GLOBAL_SRC))
	@mkdir -p $(@D)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

define program_rule
$(call prog_path,$(1)): $(call obj,$(sort $(wildcard src/$(1)/*.c))) $(LIBS)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(LIBS) $$(LDLIBS)
endef
$(foreach p,$(PROG_DIRS),$(eval $(call program_rule,$(p))))

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS) -lcmocka

# Sendmail-compatible names, as Postfix installs them.
links: $(PROGRAMS)
	@if [ -x $(BUILD)/sbin/sendmail ]; then \
	  ln -sf sendmail $(BUILD)/sbin/mailq; ln -sf sendmail $(BUILD)/sbin/newaliases; fi

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(BUILD) $(if $(SANITIZE),asan,unit)

unit-asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 unit

system: all
	@scripts/run-system.sh

# The system tests against the sanitizer build: any report fails.
system-asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 all
	@scripts/run-system-asan.sh build/asan

check: all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-asan
	@$(MAKE) --no-print-directory system
	@$(MAKE) --no-print-directory system-asan

fuzz:
	@scripts/build-fuzz.sh

run: all
	@BUILD=$(BUILD) scripts/run.sh

# Postern against Debian's Postfix, side by side (bench/README.md).
bench: all
	@bench/bench.py --build $(BUILD) $(BENCH_FLAGS)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
