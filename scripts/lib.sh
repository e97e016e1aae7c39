# Shared helpers for scripts/*.sh; sourced, not run.
# PSS_CACHE holds everything slow to make (kernel images, unpacked sources, the debug
# kernel). It lives outside the repo so `git clean` and fresh clones keep it.
PSS_CACHE=${PSS_CACHE:-/var/cache/pss}
mkdir -p "$PSS_CACHE"

log() { printf 'pss: %s\n' "$*" >&2; }
die() { printf 'pss: error: %s\n' "$*" >&2; exit 1; }
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }
