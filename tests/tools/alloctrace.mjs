// Where a gateway's allocations come from: reads a trace written by the
// alloccount.so shim (ALLOCCOUNT_TRACE, or ALLOCS_TRACE=DIR with
// tests/integration/allocs.test.mjs) and prints, per call, how many
// allocations each place in the gateway's own code made, innermost first
// (library frames are folded into the gateway function that called them).
//
//   node tests/tools/alloctrace.mjs TRACE [BIN=build/mcpgw] [CALLS=200] [DEPTH=1]
//
// DEPTH > 1 shows that many gateway frames ("f@file:line < caller < ...").
// Needs addr2line (binutils) and a binary built with -g (make does).
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const [trace, bin = 'build/mcpgw', calls = '200', depth = '1'] = process.argv.slice(2);
if (!trace) {
  console.error('usage: node tests/tools/alloctrace.mjs TRACE [BIN] [CALLS] [DEPTH]');
  process.exit(2);
}
const frame = /mcpgw\(\+0x([0-9a-f]+)\)/;
const stacks = readFileSync(trace, 'latin1').split('=\n').filter(Boolean)
  .map((s) => s.split('\n').map((l) => frame.exec(l)).filter(Boolean).map((m) => parseInt(m[1], 16)));
const offsets = [...new Set(stacks.flat())];
// A return address points after the call: look up the byte before it.
const lines = offsets.length
  ? execFileSync('addr2line', ['-f', '-e', bin, ...offsets.map((o) => `0x${(o - 1).toString(16)}`)],
    { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n')
  : [];
const name = new Map(offsets.map((o, i) =>
  [o, `${lines[2 * i]}@${(lines[2 * i + 1] || '?').split('/').pop().split(' ')[0]}`]));
const count = new Map();
for (const s of stacks) {
  const key = s.slice(0, Number(depth)).map((o) => name.get(o)).join(' < ') || '(no gateway frame)';
  count.set(key, (count.get(key) || 0) + 1);
}
console.log(`${(stacks.length / Number(calls)).toFixed(1)} allocations per call (${stacks.length} in ${calls} calls)`);
for (const [k, c] of [...count].sort((a, b) => b[1] - a[1]))
  console.log(`${(c / Number(calls)).toFixed(2).padStart(8)}  ${k}`);
