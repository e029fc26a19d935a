#!/usr/bin/env bash
# Fuzzes the addon's frame path with libFuzzer (Debian's clang and
# libclang-rt-*-dev), with AddressSanitizer and UBSan.
#   speaker/l2/native/fuzz/run.sh [seconds]     default 30; the corpus persists
#                                               under ~/.cache/ballast/fuzz
# Exits non-zero on a crash, leak or sanitizer report (the reproducer is left
# in the corpus directory's parent as crash-*).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-30}
command -v clang++ >/dev/null || { echo "fuzz: clang++ is not installed (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
work=${BALLAST_CACHE:-$HOME/.cache/ballast}/fuzz
mkdir -p "$work/corpus"
clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -o "$work/frame_path_fuzz" "$here/frame_path_fuzz.cc" "$here/../frame_path.cc"
cd "$work"
if ./frame_path_fuzz -max_total_time="$seconds" -max_len=512 -print_final_stats=1 corpus >fuzz.log 2>&1; then
  grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' fuzz.log
else
  grep -E 'ERROR|SUMMARY|runtime error|Test unit written|==[0-9]+==' fuzz.log | head -20 >&2
  echo "fuzz: the frame path failed; the full log is $work/fuzz.log" >&2
  exit 1
fi
