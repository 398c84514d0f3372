#!/usr/bin/env bash
# One idempotent setup for `make test` and `make demo` on a fresh Debian 12 machine:
#   1. Debian packages (SoapySDR + headers, C++ toolchain, headless Chromium + its driver for the
#      monitor page's browser test; GNU Radio with --with-gnuradio) when root,
#   2. a virtual environment at .venv with sdrcast installed editable (plus test extras),
#   3. Debian's SoapySDR Python module linked into the venv,
#   4. the sdrcast_loopback SoapySDR module built into build/loopback.
# A second run only checks what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=.venv
EXTRAS=test
WANT_GR=0
for arg in "$@"; do
    case "$arg" in
        --with-gnuradio) WANT_GR=1 ;;
        *) echo "setup.sh: unknown option $arg (allowed: --with-gnuradio)" >&2; exit 2 ;;
    esac
done

say() { printf 'setup: %s\n' "$*" >&2; }

# 1. Debian packages ------------------------------------------------------------------------
DEB_PKGS=(python3-soapysdr soapysdr-tools libsoapysdr-dev cmake g++ make chromium chromium-driver)
[ "$WANT_GR" = 1 ] && DEB_PKGS+=(gnuradio)
missing=()
for p in "${DEB_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        say "missing Debian packages: ${missing[*]}"
        say "run: sudo apt-get install -y --no-install-recommends ${missing[*]}"
        say "continuing without SoapySDR/GNU Radio support and the browser test"
    fi
fi

# 2. virtual environment --------------------------------------------------------------------
stamp_src=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
stamp="$VENV/.sdrcast-stamp"
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "$PY" -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$stamp_src" ]; then
    say "installing Python dependencies into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -e ".[$EXTRAS]" 2> >(grep -v "is ignored: it is neither" >&2)
    echo "$stamp_src" > "$stamp"
fi

# 3. SoapySDR's Python module (Debian) into the venv: symlink its two files -----------------
SP=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
EXT=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
DIST=/usr/lib/python3/dist-packages
if [ -e "$DIST/_SoapySDR$EXT" ]; then
    ln -sf "$DIST/SoapySDR.py" "$DIST/_SoapySDR$EXT" "$SP/"
else
    say "SoapySDR Python module for $EXT not found in $DIST: SoapySDR I/O disabled"
fi

# 4. the hermetic loopback SoapySDR module ------------------------------------------------
SRC=sdrcast/sdr_io/soapy_loopback
if command -v cmake >/dev/null && [ -e /usr/include/SoapySDR/Device.hpp ]; then
    if [ ! -e build/loopback/libsdrcastLoopback.so ] || \
       [ -n "$(find "$SRC" -newer build/loopback/libsdrcastLoopback.so -type f)" ]; then
        say "building the sdrcast_loopback SoapySDR module"
        cmake -S "$SRC" -B build/loopback -DCMAKE_BUILD_TYPE=Release >/dev/null
        cmake --build build/loopback -j2 >/dev/null
    fi
else
    say "cmake or libsoapysdr-dev missing: the sdrcast_loopback module is not built"
fi
say "ready ($VENV)"
