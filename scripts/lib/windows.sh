# Sourced from the repository root: the Windows toolchain. Installs what is missing from
# Debian's packages (rustc-web and cargo-web, a Rust with the standard library's source for
# -Zbuild-std; rust-web-src; gcc-mingw-w64-x86-64, the MinGW-w64 compiler, linker, windres and
# dlltool; rust-web-clippy, its linter; wine64 when WINDOWS_NEED_WINE=1), then sets the
# variables that build for Windows:
#   WIN_TARGET      the Rust target (x86_64-win7-windows-gnu: see the README's "Windows")
#   WIN_CARGO       Debian's cargo, run with Debian's rustc whatever rustup puts first on PATH
#   WIN_TARGET_DIR  its target directory, under target/ and kept between runs
#   WIN_CC          the MinGW-w64 C compiler
#   WIN_WINE        the Wine loader (only with WINDOWS_NEED_WINE=1)
# and exports what cargo and the cc crate need to cross-compile (linker, archiver, compilers).
WIN_TARGET=x86_64-win7-windows-gnu
WIN_TARGET_DIR="$PWD/target/windows/cargo"
WIN_CC=x86_64-w64-mingw32-gcc

win_need=()
[ -x /usr/bin/cargo ] || win_need+=(cargo-web)
[ -x /usr/bin/rustc ] || win_need+=(rustc-web)
[ -d /usr/lib/rustlib/src/rust/library/std ] || win_need+=(rust-web-src)
[ -x /usr/bin/clippy-driver ] || win_need+=(rust-web-clippy)
command -v "$WIN_CC" >/dev/null 2>&1 || win_need+=(gcc-mingw-w64-x86-64)
if [ "${WINDOWS_NEED_WINE:-0}" = 1 ] && ! command -v wine >/dev/null 2>&1 && [ ! -x /usr/lib/wine/wine64 ]; then
  win_need+=(wine64)
fi
if [ ${#win_need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    win_sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    win_sudo=(sudo)
  else
    echo "windows: missing ${win_need[*]} (Debian packages) and this is not root" >&2
    exit 1
  fi
  "${win_sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${win_sudo[@]}" apt-get install -y -qq --no-install-recommends "${win_need[@]}"
fi

if [ "${WINDOWS_NEED_WINE:-0}" = 1 ]; then
  # wine64 alone installs the loader under /usr/lib/wine; the `wine` package adds the wrapper.
  WIN_WINE=$(command -v wine 2>/dev/null || echo /usr/lib/wine/wine64)
fi

# Debian's toolchain, not rustup's: -Zbuild-std needs the standard library's source, which
# rust-web-src puts where Debian's rustc looks (its sysroot is /usr).
WIN_CARGO=(env RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
  CARGO_TARGET_DIR="$WIN_TARGET_DIR" /usr/bin/cargo)
export CARGO_TARGET_X86_64_WIN7_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_WIN7_WINDOWS_GNU_AR=x86_64-w64-mingw32-ar
export CC_x86_64_win7_windows_gnu=x86_64-w64-mingw32-gcc
export CXX_x86_64_win7_windows_gnu=x86_64-w64-mingw32-g++
export AR_x86_64_win7_windows_gnu=x86_64-w64-mingw32-ar
export WINDRES_x86_64_win7_windows_gnu=x86_64-w64-mingw32-windres
# One build from a clean target: incremental state would only take disk.
export CARGO_INCREMENTAL=0
