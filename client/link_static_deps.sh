#!/usr/bin/env bash
# Link launcher (the RULE_LAUNCH_LINK of a short-lived command-line tool): runs the link command
# it is given with each system library that Debian also ships as a static archive (gRPC,
# protobuf, Abseil, re2, c-ares, OpenSSL, zlib, ...) taken from that archive instead, inside one
# linker group so that their mutual references resolve in any order. glibc and libstdc++ stay
# shared. Why: on the machines this project measures on, loading ~60 shared libraries and
# resolving their symbols costs osbctl ~10 ms at every start (17.7 -> 6 ms for --version);
# a CLI run many times a minute pays that each time.
set -euo pipefail
multiarch_dir="/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"
command=()
opened=0
for arg in "$@"; do
  archive=""
  case "$arg" in
    /usr/lib/*.so | /usr/lib/*.so.*)
      candidate="${arg%%.so*}.a"
      [[ -f "$candidate" ]] && archive="$candidate"
      ;;
    -l*)
      name="${arg#-l}"
      case "$name" in
        c | m | dl | rt | pthread | atomic | stdc++ | gcc | gcc_s) ;;
        *) [[ -f "$multiarch_dir/lib$name.a" ]] && archive="$multiarch_dir/lib$name.a" ;;
      esac
      ;;
  esac
  if [[ -n "$archive" ]]; then
    if [[ $opened == 0 ]]; then
      command+=("-Wl,--start-group")
      opened=1
    fi
    command+=("$archive")
  else
    command+=("$arg")
  fi
done
[[ $opened == 1 ]] && command+=("-Wl,--end-group")
exec "${command[@]}"
