#!/usr/bin/env bash
# Chaos tier (issue 5): tests/chaos/chaos.mjs against the release binary.
# make test runs the short form (CHAOS_SECONDS=5); `make chaos` runs the long
# form and writes the figures into the "Chaos" section of bench/RESULTS.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export MCPGW_BIN="${MCPGW_BIN:-$ROOT/build/mcpgw}"
fig="$(mktemp)"
trap 'rm -f "$fig"' EXIT
CHAOS_JSON="$fig" node "$HERE/chaos.mjs"
[ "${CHAOS_WRITE:-0}" = 1 ] || exit 0
node - "$fig" "$ROOT/bench/RESULTS.md" <<'JS'
const fs = require('fs');
const [fig, out] = process.argv.slice(2);
const f = JSON.parse(fs.readFileSync(fig, 'utf8'));
const ms = (x) => x.toFixed(2);
const row = (p) => `| ${p.name} | ${p.calls} | ${p.calls_per_s} | ${ms(p.p50)} | ${ms(p.p99)} | ${ms(p.max)} | ${p.rss_max_mib.toFixed(1)} |`;
const d = Object.fromEntries(f.disturbers.map((x) => [x.mode, x]));
const section = `## Chaos (\`make chaos\`, tests/chaos/)

Produced on ${new Date().toISOString().slice(0, 10)} on this project's 2-core machine, release build.
${f.sessions} steady sessions each calling \`echo__echo\` ${f.rate_per_session} times a second, ${f.seconds} s per phase;
the disturbed phase runs, at once and each in its own (niced) process: one client flooding with 8 calls in
flight (its API key's role has a quota of 600 a minute, burst 20: it gets 429s, each held until its bucket
refills), an upstream that crashes every second, an upstream that never answers (8 calls outstanding, 2 s
timeout, then its breaker answers at once and the client backs off 200 ms), and a slow-loris client holding
500 connections (dropped after \`read_timeout\`, 5 s, and reopened). Every session authenticates with an API key.

| phase | steady calls | calls/s | p50 ms | p99 ms | max ms | gateway RSS MiB |
|---|---|---|---|---|---|---|
${row(f.baseline)}
${row(f.disturbed)}

**p99 disturbed / baseline: ${f.p99_ratio}** (limit 2). Steady answers lost: ${f.lost}. Gateway peak RSS: ${f.gateway_peak_rss_mib.toFixed(1)} MiB.
Disturbers: flood sent ${d.flood?.sent} calls (${JSON.stringify(d.flood?.statuses)}); crash ${d.crash?.sent} calls;
hang ${d.hang?.sent} calls (${JSON.stringify(d.hang?.statuses)}); slow-loris ${JSON.stringify(d.loris?.loris)}.
`;
let md = fs.readFileSync(out, 'utf8');
const start = md.indexOf('## Chaos');
if (start >= 0) {
  const next = md.indexOf('\n## ', start + 1);
  md = md.slice(0, start) + section + (next >= 0 ? md.slice(next) : '');
} else {
  md = `${md.trimEnd()}\n\n${section}`;
}
fs.writeFileSync(out, md);
console.log(`chaos: figures written to ${out}`);
JS
