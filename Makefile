# libnn — build the library, the examples, the tests.
#   make            library (static + shared) and every example
#   make demo       the main job: run each chapter example with its default (seconds-long) settings
#   make test       build and run the unit tests, the example smoke tests, the doc snippets
#   make SANITIZE=1 test    the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make install PREFIX=/usr/local DESTDIR=     make uninstall
#   make deps       install missing packages (cmocka, stb, zlib) with scripts/deps.sh
#   make fuzz       the libFuzzer targets in build/fuzz/ (clang; scripts/fuzz.sh runs them)
#   make MPI=1      everything with Open MPI, in build/mpi (chapter 7: mpirun -np N ...)
#   make test-mpi   install Open MPI if missing, build with MPI=1, run the mpirun tests
#   make BLAS=openblas   every product through OpenBLAS's sgemm, in build/openblas
#                   (needs libopenblas-dev: sh scripts/deps.sh --blas)
# A plain `make` never runs a package manager; `make deps`, `make demo`, `make test`,
# `make test-mpi` and `make fuzz` do.

CC      ?= cc
CFLAGS  ?= -O3 -g
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

# OpenMP when the compiler has it; everything works without it (OPENMP=0 to switch off).
OPENMP ?= $(shell printf 'int main(void){return 0;}' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo 1 || echo 0)
ifeq ($(OPENMP),1)
  OMP_FLAGS := -fopenmp
  OMP_CFLAGS := -fopenmp
else
  OMP_CFLAGS := -Wno-unknown-pragmas
endif

# Open MPI for chapter 7's data parallelism (make MPI=1): the compile and link flags come from
# Open MPI's own compiler wrapper (`mpicc --showme:compile`, `--showme:link`); the build goes to
# build/mpi so that it never mixes with the plain one. Without MPI=1 the same functions run a
# job of one process (src/train/data_parallel.c), so nothing else needs MPI.
ifeq ($(MPI),1)
  MPI_FOUND := $(shell command -v mpicc >/dev/null 2>&1 && echo 1)
  ifneq ($(MPI_FOUND),1)
    $(error MPI=1 needs Open MPI: sh scripts/deps.sh --mpi (Debian: openmpi-bin libopenmpi-dev))
  endif
  MPI_CFLAGS := $(shell mpicc --showme:compile) -DNN_HAVE_MPI
  MPI_LIBS   := $(shell mpicc --showme:link)
  ifeq ($(SANITIZE),1)
    BUILD ?= build/mpi-sanitize
  else
    BUILD ?= build/mpi
  endif
endif

# The system BLAS for every product (make BLAS=openblas): Debian's libopenblas-dev, found
# through pkg-config; tests/test_gemm.c checks it against the plain sums like every path.
ifeq ($(BLAS),openblas)
  BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null) -DNN_HAVE_CBLAS
  BLAS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
  BUILD ?= build/openblas
else ifneq ($(BLAS),)
  $(error BLAS=$(BLAS): the one system BLAS supported is BLAS=openblas)
endif

ifeq ($(SANITIZE),1)
  BUILD    ?= build/sanitize
  SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
  BUILD    ?= build
endif

STB_CFLAGS := $(shell pkg-config --cflags stb 2>/dev/null)
STB_LIBS   := $(shell pkg-config --libs stb 2>/dev/null || echo -lstb)
CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Iinclude $(STB_CFLAGS) \
             $(OMP_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
# -fno-math-errno: the library never reads errno after sqrtf and friends, and with the flag
# the compiler may use the vector square root (the optimizers' loops: the same bits, several
# elements at a time)
LIB_CFLAGS = $(ALL_CFLAGS) $(MPI_CFLAGS) $(BLAS_CFLAGS) -Isrc -fPIC -DNN_BUILDING_LIBRARY \
             -fno-math-errno
LIBS       = $(STB_LIBS) -lz -lm $(OMP_FLAGS) $(SAN_FLAGS) $(MPI_LIBS) $(BLAS_LIBS)

# The library: src/<layer>/<job>.c, e.g. src/core/graph.c (README.md, "Layout").
LIB_SRCS  := $(sort $(wildcard src/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
HEADERS   := include/nn.h $(wildcard include/nn/*.h include/nn/*/*.h)
STATIC    := $(BUILD)/libnn.a
SHARED    := $(BUILD)/libnn.so

# Each examples/<chapter>/<name>.c is one program: $(BUILD)/examples/<chapter>/<name>.
EX_SRCS   := $(sort $(wildcard examples/*/*.c))
EX_BINS   := $(EX_SRCS:examples/%.c=$(BUILD)/examples/%)
# Each tests/test_*.c is one cmocka program.
TEST_SRCS := $(sort $(wildcard tests/test_*.c))
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

.PHONY: all lib examples tests bench demo test test-mpi run-mpi-tests deps install uninstall clean fuzz fuzz-build
.DELETE_ON_ERROR:

all: lib examples
lib: $(STATIC) $(SHARED)
examples: $(EX_BINS)
tests: $(TEST_BINS)
bench: $(BENCH_BINS)

deps:
	@sh scripts/deps.sh

# Each object records the headers it includes (-MMD) in a .d file next to it; including
# those files makes a change to one header rebuild only the objects that use it.
DEPFLAGS = -MMD -MP
-include $(LIB_OBJS:.o=.d)
-include $(EX_BINS:=.d) $(TEST_BINS:=.d) $(BENCH_BINS:=.d)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(STATIC): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(SHARED): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libnn.so.0 -o $@ $^ $(LIBS)

$(BUILD)/examples/%: examples/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -MF $@.d $< -o $@ $(STATIC) $(LIBS)

$(BUILD)/tests/%: tests/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) $(DEPFLAGS) -MF $@.d $< -o $@ $(STATIC) $(CMOCKA_LIBS) $(LIBS)

$(BUILD)/bench/%: bench/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -MF $@.d $< -o $@ $(STATIC) $(LIBS)

# Chapter 7's test: data parallelism over 2 and 3 processes gives one process's weights.
# `make test-mpi` installs Open MPI when missing (scripts/deps.sh --mpi), then builds with
# MPI=1 and runs. mpirun refuses root unless told (CI runs as root); --oversubscribe lets
# -np 3 run on 2 cores; --timeout ends a hung job.
MPI_TESTS := $(BUILD)/tests/mpi/data_parallel_equal
MPIRUN    ?= mpirun --oversubscribe --timeout 120
MPI_ROOT_OK := OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
test-mpi:
	@sh scripts/deps.sh --mpi
	@$(MAKE) --no-print-directory MPI=1 run-mpi-tests
run-mpi-tests: lib examples $(MPI_TESTS) $(BUILD)/tests/test_data_parallel
	$(MPI_ROOT_OK) $(BUILD)/tests/test_data_parallel
	$(MPI_ROOT_OK) $(MPIRUN) -np 2 $(MPI_TESTS)
	$(MPI_ROOT_OK) $(MPIRUN) -np 3 $(MPI_TESTS)

$(BUILD)/tests/mpi/%: tests/mpi/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -MF $@.d $< -o $@ $(STATIC) $(LIBS)

# demo and test install what is missing first, then build in a fresh make (which sees the
# packages' pkg-config flags), so they work on a fresh machine, with -j too.
demo:
	@sh scripts/deps.sh --data
	@$(MAKE) --no-print-directory lib examples
	@sh scripts/demo.sh $(BUILD)

test:
	@sh scripts/deps.sh
	@$(MAKE) --no-print-directory lib examples tests
	@BUILD=$(BUILD) CC="$(CC)" sh tests/run.sh

# ---- fuzzing ---------------------------------------------------------------------------------
# `make fuzz` installs clang and libFuzzer when missing (scripts/deps.sh --fuzz), then builds
# each fuzz/fuzz_<target>.c into build/fuzz/fuzz_<target>, plus build/fuzz/make_seeds (the
# seed corpus). The library is compiled again for this, with clang, coverage instrumentation
# (-fsanitize=fuzzer-no-link) and ASan + UBSan, into build/fuzz/obj/; stb's decoders are
# compiled in too (fuzz/stb_impl.c), so the fuzzer sees inside them. No OpenMP here.
# scripts/fuzz.sh [seconds-per-target] runs everything and prints a table.
FUZZ_CC    ?= clang
FUZZ_BUILD := build/fuzz
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wno-unknown-pragmas -Iinclude \
              $(STB_CFLAGS) -g -O1 $(FUZZ_SAN)
FUZZ_LIB_CFLAGS = $(FUZZ_CFLAGS) -Isrc -DNN_BUILDING_LIBRARY -fsanitize=fuzzer-no-link
FUZZ_OBJS  := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/obj/fuzz/stb_impl.o
FUZZ_LIB   := $(FUZZ_BUILD)/libnn-fuzz.a
FUZZ_SRCS  := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BINS  := $(FUZZ_SRCS:fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIBS  := -lz -lm
-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d) $(FUZZ_BUILD)/make_seeds.d

fuzz:
	@FUZZ_CC="$(FUZZ_CC)" sh scripts/deps.sh --fuzz
	@$(MAKE) --no-print-directory fuzz-build

fuzz-build: $(FUZZ_BINS) $(FUZZ_BUILD)/make_seeds

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) $(DEPFLAGS) -c $< -o $@

# stb's own code, with ASan but without UBSan: stb shifts signed values on purpose (its JPEG
# writer and decoders do), which would stop every run; its warnings are not ours either.
$(FUZZ_BUILD)/obj/fuzz/stb_impl.o: fuzz/stb_impl.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) -fno-sanitize=undefined -w $(DEPFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(DEPFLAGS) -MF $@.d $< -o $@ $(FUZZ_LIB) $(FUZZ_LIBS)

$(FUZZ_BUILD)/make_seeds: fuzz/make_seeds.c $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -MF $@.d $< -o $@ $(FUZZ_LIB) $(FUZZ_LIBS)

install: lib
	install -d $(DESTDIR)$(PREFIX)/include/nn $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/nn.h $(DESTDIR)$(PREFIX)/include/nn.h
	install -m 644 include/nn/*.h $(DESTDIR)$(PREFIX)/include/nn/
	for d in $(patsubst include/nn/%/,%,$(wildcard include/nn/*/)); do \
	    install -d $(DESTDIR)$(PREFIX)/include/nn/$$d && \
	    install -m 644 include/nn/$$d/*.h $(DESTDIR)$(PREFIX)/include/nn/$$d/ || exit 1; \
	done
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/libnn.a
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/libnn.so.$(VERSION)
	ln -sf libnn.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libnn.so.0
	ln -sf libnn.so.0 $(DESTDIR)$(PREFIX)/lib/libnn.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@OMP@|$(OMP_FLAGS)|' \
	    nn.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/nn.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/nn.h $(DESTDIR)$(PREFIX)/lib/libnn.a
	rm -f $(DESTDIR)$(PREFIX)/lib/libnn.so $(DESTDIR)$(PREFIX)/lib/libnn.so.0 \
	      $(DESTDIR)$(PREFIX)/lib/libnn.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/pkgconfig/nn.pc
	rm -rf $(DESTDIR)$(PREFIX)/include/nn

clean:
	rm -rf build
