#!/usr/bin/env bash
# Dependencies point down (DESIGN.md): a module includes only modules of
# its own layer or below, and folders of one layer never include each other
# in a cycle. Layers, lowest first (one line each, folders of a layer
# separated by spaces):
LAYERS=(
  "core"
  "store compliance"
  "upstream auth policy limits guard audit obs"
  "catalog"
  "mcp"
  "http stdio admin"
  "cli"
)
# Usage: scripts/check-layers.sh [ROOT]   (ROOT defaults to the checkout)
# Exit 1 naming each include that goes up, each cycle across folders of one
# layer (types-only "-t.h" headers do not count there), and each folder
# under src/ that has no layer.
#
# Known debt: scripts/layers-debt.txt lists upward includes that are still
# to be removed ("FILE -> INCLUDE" lines). They are reported but pass; a
# listed include that no longer exists fails, so the list only shrinks.
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"

declare -A layer
for i in "${!LAYERS[@]}"; do
  for d in ${LAYERS[$i]}; do layer[$d]=$i; done
done

debt_file=scripts/layers-debt.txt
declare -A debt seen_debt
if [ -f "$debt_file" ]; then
  while read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    debt[$line]=1
  done < "$debt_file"
fi
ndebt=0

fail=0
for d in src/*/; do
  d=${d#src/}; d=${d%/}
  if [ -z "${layer[$d]+x}" ]; then
    echo "layers: src/$d has no layer (add it to LAYERS in scripts/check-layers.sh)"; fail=1
  fi
done

# Every "folder/file" include of a source file: "file folder target".
edges=$(grep -HoE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[a-z_]+/[^"]+"' \
          $(find src -name '*.[ch]' | sort) |
        sed -E 's|^(src/([a-z_]+)/[^:]+):.*"([a-z_]+)/([^"]+)"$|\1 \2 \3 \3/\4|')
declare -A across   # "from to" of one layer -> an example
while read -r file from to inc; do
  [ -n "$file" ] || continue
  [ "$from" = "$to" ] && continue
  if [ -z "${layer[$to]+x}" ]; then
    echo "layers: $file includes \"$inc\": src/$to has no layer"; fail=1; continue
  fi
  [ -z "${layer[$from]+x}" ] && continue
  if [ "${layer[$to]}" -gt "${layer[$from]}" ]; then
    if [ -n "${debt["$file -> $inc"]+x}" ]; then
      seen_debt["$file -> $inc"]=1; ndebt=$((ndebt + 1)); continue
    fi
    echo "layers: $file includes \"$inc\": $to (layer ${layer[$to]}) is above $from (layer ${layer[$from]})"
    fail=1
  elif [ "${layer[$to]}" -eq "${layer[$from]}" ] && [ "${inc%-t.h}" = "$inc" ]; then
    across["$from $to"]="$file includes \"$inc\""
  fi
done <<< "$edges"

# Cycles among folders of one layer: depth-first search over "across".
declare -A state
visit() {
  local n=$1 path=$2 k m
  state[$n]=1
  for k in "${!across[@]}"; do
    [ "${k%% *}" = "$n" ] || continue
    m=${k#* }
    if [ "${state[$m]:-0}" = 1 ]; then
      echo "layers: folders include each other in a cycle: $path -> $m (${across[$k]})"; fail=1
    elif [ "${state[$m]:-0}" = 0 ]; then
      visit "$m" "$path -> $m"
    fi
  done
  state[$n]=2
}
for d in "${!layer[@]}"; do
  [ "${state[$d]:-0}" = 0 ] && visit "$d" "$d"
done
for k in "${!debt[@]}"; do
  if [ -z "${seen_debt[$k]+x}" ]; then
    echo "layers: $debt_file lists \"$k\", which is gone: remove the line"; fail=1
  fi
done
[ "$ndebt" -gt 0 ] && echo "layers: $ndebt upward include(s) still listed in $debt_file"
exit $fail
