#!/usr/bin/env bash
# Checks the membership model with SPIN (Debian package spin): every LTL
# property in membership.pml, exhaustively. Exits non-zero on any violation.
#   speaker/liveness/model/check.sh            all properties
#   speaker/liveness/model/check.sh converges  one of them
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v spin >/dev/null || { echo "model: spin is not installed (apt-get install spin)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/membership.pml" "$work/"
cd "$work"
spin -a membership.pml >/dev/null
gcc -O2 -w -DMEMLIM=4096 -DCOLLAPSE -o pan pan.c
props=${1:-$(sed -n 's/^ltl \([a-z_]*\) .*/\1/p' membership.pml)}
status=0
for p in $props; do
  out=$(./pan -a -m200000 -N "$p" 2>&1)
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<<"$out")
  states=$(sed -n 's/^ *\([0-9]*\) states, stored.*/\1/p' <<<"$out")
  if [[ $errors == 0 ]]; then
    echo "model: $p holds ($states states)"
  else
    echo "model: $p VIOLATED; trail follows" >&2
    echo "$out" | head -20 >&2
    spin -t -p -k membership.pml.trail membership.pml 2>&1 | tail -40 >&2 || true
    status=1
  fi
done
exit $status
