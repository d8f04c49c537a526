#!/bin/sh
# scripts/deps.sh — make sure the build's needs are present (run by `make deps`).
#
#   a C compiler (${CC:-cc}), pkg-config, cmocka, stb, zlib headers
#   --data: also Debian's dataset-fashion-mnist, for the chapter 3 demo (`make demo`), and
#           fortunes-zh (唐诗三百首 and more, /usr/share/games/fortunes/tang300) and fortunes
#           (English text) for chapter 4; if they cannot be installed the examples fall back
#           to small synthetic data sets. The tests never use these files.
#   --fuzz: also clang (${FUZZ_CC:-clang}) with its libFuzzer and sanitizer runtimes, for
#           `make fuzz` (Debian: clang and libclang-rt-<version>-dev, e.g. 14 on Debian 12).
#   --mpi:  also Open MPI (openmpi-bin: mpirun; libopenmpi-dev: mpicc and mpi.h), for chapter
#           7's `make MPI=1` and `make MPI=1 test-mpi`.
#   --blas: also OpenBLAS's development files (libopenblas-dev), for `make BLAS=openblas`.
#
# Silent and fast when everything is there. When something is missing:
#   Debian/Ubuntu  installs the missing packages with apt-get (as root, or through sudo);
#   elsewhere      names what to install and exits non-zero.
set -u

cc=${CC:-cc}
missing=""          # Debian package names still needed
add() { case " $missing " in *" $1 "*) ;; *) missing="${missing:+$missing }$1" ;; esac; }

check() {
    missing=""
    # The compiler: CC may carry flags ("gcc -m64"), so test its first word.
    # shellcheck disable=SC2086  # split CC into words on purpose
    set -- $cc
    command -v "$1" >/dev/null 2>&1 || add build-essential
    if command -v pkg-config >/dev/null 2>&1; then
        pkg-config --exists cmocka || add libcmocka-dev
        pkg-config --exists stb || add libstb-dev
    else
        # Without pkg-config we cannot ask about cmocka and stb: install all three.
        add pkg-config; add libcmocka-dev; add libstb-dev
    fi
    # zlib: does a file including <zlib.h> get through the preprocessor?
    if command -v "$1" >/dev/null 2>&1; then
        printf '#include <zlib.h>\n' | $cc -E -x c - >/dev/null 2>&1 || add zlib1g-dev
    else
        add zlib1g-dev
    fi
    # --blas: OpenBLAS's cblas.h and library, as pkg-config knows them
    if [ "$want_blas" = 1 ] && ! pkg-config --exists openblas 2>/dev/null; then
        add libopenblas-dev
    fi
    # --mpi: Open MPI's compiler wrapper and launcher
    if [ "$want_mpi" = 1 ]; then
        command -v mpicc >/dev/null 2>&1 || add libopenmpi-dev
        command -v mpirun >/dev/null 2>&1 || add openmpi-bin
    fi
    # --fuzz: can clang build and link a libFuzzer program with ASan + UBSan?
    if [ "$want_fuzz" = 1 ]; then
        # shellcheck disable=SC2086  # FUZZ_CC may carry flags too
        set -- $fuzz_cc
        if ! command -v "$1" >/dev/null 2>&1; then
            add "$(clang_package "$1")"
            add "$(clang_rt_package)"
        elif ! fuzzer_links; then
            add "$(clang_rt_package)"
        fi
    fi
}

# The Debian package of the fuzz compiler: clang, or clang-N for FUZZ_CC=clang-N.
clang_package() {
    case $(basename "$1") in
        clang-[0-9]*) basename "$1" ;;
        *) echo clang ;;
    esac
}

# The Debian package with libFuzzer and the sanitizer runtimes for that clang's version:
# libclang-rt-N-dev (Debian 12: N = 14); older releases had them in libclang-common-N-dev.
clang_rt_package() {
    v=$($fuzz_cc --version 2>/dev/null | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -n 1)
    if [ -z "$v" ] && command -v apt-cache >/dev/null 2>&1; then
        v=$(apt-cache depends "$(clang_package "${fuzz_cc%% *}")" 2>/dev/null |
            sed -n 's/.*Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n 1)
    fi
    v=${v:-14}
    if command -v apt-cache >/dev/null 2>&1 && ! apt-cache show "libclang-rt-$v-dev" >/dev/null 2>&1 &&
       apt-cache show "libclang-common-$v-dev" >/dev/null 2>&1; then
        echo "libclang-common-$v-dev"
    else
        echo "libclang-rt-$v-dev"
    fi
}

# Does a one-line fuzz target build with -fsanitize=fuzzer,address,undefined?
fuzzer_links() {
    printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' |
        $fuzz_cc -fsanitize=fuzzer,address,undefined -x c - -o /dev/null >/dev/null 2>&1
}

want_data=0
want_fuzz=0
want_mpi=0
want_blas=0
fuzz_cc=${FUZZ_CC:-clang}
for arg in "$@"; do
    case $arg in
        --data) want_data=1 ;;
        --fuzz) want_fuzz=1 ;;
        --mpi) want_mpi=1 ;;
        --blas) want_blas=1 ;;
        *) echo "usage: scripts/deps.sh [--data] [--fuzz] [--mpi] [--blas]" >&2; exit 2 ;;
    esac
done
fashion=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

# apt-get as root, or through sudo; empty when neither is possible.
root_cmd() {
    if [ "$(id -u)" -eq 0 ]; then echo env
    elif command -v sudo >/dev/null 2>&1; then echo "sudo env"
    fi
}

# The data set is a nice-to-have: a failure here only means synthetic data in chapter 3.
if [ "$want_data" = 1 ] && [ ! -f "$fashion" ] && command -v apt-get >/dev/null 2>&1 &&
   [ -n "$(root_cmd)" ]; then
    echo "deps: installing dataset-fashion-mnist (for the chapter 3 demo)"
    # shellcheck disable=SC2046  # root_cmd is a command and its arguments
    { $(root_cmd) DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      $(root_cmd) DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
          dataset-fashion-mnist; } >/dev/null ||
        echo "deps: could not install dataset-fashion-mnist; chapter 3 falls back to synthetic data" >&2
fi

# The chapter 4 corpora, best effort too: without them the text examples use a synthetic one.
fortunes_dir=/usr/share/games/fortunes
data_pkgs=""
[ -f "$fortunes_dir/tang300" ] || data_pkgs="fortunes-zh"
[ -f "$fortunes_dir/fortunes" ] || data_pkgs="${data_pkgs:+$data_pkgs }fortunes"
if [ "$want_data" = 1 ] && [ -n "$data_pkgs" ] && command -v apt-get >/dev/null 2>&1 &&
   [ -n "$(root_cmd)" ]; then
    echo "deps: installing $data_pkgs (text for the chapter 4 demo)"
    # shellcheck disable=SC2046,SC2086  # root_cmd is a command and its arguments; two packages
    { $(root_cmd) DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      $(root_cmd) DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
          $data_pkgs; } >/dev/null ||
        echo "deps: could not install $data_pkgs; chapter 4 falls back to a synthetic corpus" >&2
fi

check
[ -z "$missing" ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing missing packages: $missing"
    if [ "$(id -u)" -eq 0 ]; then
        as_root=""
    elif command -v sudo >/dev/null 2>&1; then
        as_root="sudo"
    else
        echo "deps: not root and no sudo; please run as root:" >&2
        echo "    apt-get update && apt-get install -y $missing" >&2
        exit 1
    fi
    # sudo drops most of the environment, so pass DEBIAN_FRONTEND through env(1).
    # shellcheck disable=SC2086  # word splitting of $as_root and $missing is intended
    if ! { $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
           $as_root env DEBIAN_FRONTEND=noninteractive \
               apt-get install -y -q --no-install-recommends $missing; }; then
        echo "deps: apt-get failed; install by hand: $missing" >&2
        exit 1
    fi
    check
    [ -z "$missing" ] && exit 0
    echo "deps: still missing after apt-get: $missing" >&2
    exit 1
fi

# Not Debian/Ubuntu: tell the user what to install.
cat >&2 <<EOF
deps: missing build dependencies (as Debian packages: $missing).
Install with your system's package manager:
  - a C compiler ($cc) and make
  - pkg-config (or pkgconf)
  - cmocka (development files, with cmocka.pc)       e.g. dnf install libcmocka-devel / brew install cmocka
  - stb (headers <stb/stb_image.h> and a library -lstb, with stb.pc)
  - zlib (development files: zlib.h)                  e.g. dnf install zlib-devel
EOF
[ "$want_fuzz" = 1 ] && cat >&2 <<EOF
  - for make fuzz: clang with compiler-rt (libFuzzer, ASan, UBSan)   e.g. dnf install clang compiler-rt
EOF
echo "then run make again." >&2
exit 1
