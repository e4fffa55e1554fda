#!/usr/bin/env node
// Runs the tap suite (arguments pass through, e.g. a single test file) and ends with one line
// "N passed, N failed" counted from tap's own summary. Exits with tap's exit code.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const tapBin = path.join(root, 'node_modules', '.bin', 'tap');
const child = spawn(tapBin, process.argv.slice(2), { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });

let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString('utf8')).slice(-4096);
});
child.on('close', (code, signal) => {
  // tap's summary line: "# { total: 37, pass: 36, fail: 1, skip: ... }"
  const summaries = [...tail.matchAll(/# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?[^}]*\}/g)];
  const last = summaries[summaries.length - 1];
  const passed = last ? Number(last[2] ?? 0) : 0;
  const failed = last ? Number(last[3] ?? 0) : 1;
  const exitCode = code ?? 1;
  console.log(`${passed} passed, ${exitCode !== 0 && failed === 0 ? 1 : failed} failed`);
  process.exit(signal ? 1 : exitCode);
});
