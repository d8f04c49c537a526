#!/bin/sh
# scripts/deps.sh — make sure the build's needs are present (run by `make deps`).
#
#   a C compiler (${CC:-cc}), pkg-config, cmocka, stb, zlib headers
#   --data: also Debian's dataset-fashion-mnist, for the chapter 3 demo (`make demo`); if it
#           cannot be installed the examples fall back to a small synthetic data set.
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
}

want_data=0
[ "${1:-}" = "--data" ] && want_data=1
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
then run make again.
EOF
exit 1
