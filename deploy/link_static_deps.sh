#!/usr/bin/env bash
# Link launcher (RULE_LAUNCH_LINK, set by osb_link_static_deps in CMakeLists.txt) for programs
# whose start-up time counts: runs the link command it is given with each system library that
# Debian also ships as a static archive (gRPC, protobuf, Abseil, re2, c-ares, OpenSSL, zlib,
# libseccomp...) taken from that archive instead, inside one linker group so that their mutual
# references resolve in any order. glibc and libraries without an archive stay shared (libstdc++
# and libgcc come in through -static-libstdc++ and -static-libgcc, where the target asks).
# Why: on the machines this project measures on, a page fault costs ~15 µs, and mapping and
# relocating ~60 shared libraries costs ~10 ms at every start (osbctl --version 17.7 -> 6 ms).
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
