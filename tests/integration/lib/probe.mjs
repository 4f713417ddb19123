// A probe preloaded into a real server's own process (NODE_OPTIONS=--require), so a test can ask
// "can THIS server, in its sandbox with its profile, read that file / see that variable / reach
// that host?" — servers have no tool that would try. It reports one line on stderr,
//   MCPCELL-PROBE {"ssh":..., "secret":..., "env":{...}, "net":...}
// and never prints what it read (the scanner would redact it and the test only needs yes or no).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

// dir: a directory of its own (the run grants it read-only). keyPath: a planted credential.
// names: variables whose presence is reported. host: a name the profile does not list.
export function writeProbe(dir, { keyPath, names, host }) {
  const file = join(dir, 'probe.cjs');
  writeFileSync(file, `'use strict';
// Only the server's first process reports; its children inherit NODE_OPTIONS.
if (!process.env.MCPCELL_PROBE_DONE) {
  process.env.MCPCELL_PROBE_DONE = '1';
  const fs = require('fs');
  const net = require('net');
  const r = {};
  try { r.ssh = 'read ' + fs.readFileSync(${JSON.stringify(keyPath)}).length + ' bytes'; }
  catch (e) { r.ssh = e.code || String(e); }
  r.secret = 'MCPCELL_TEST_SECRET' in process.env;
  r.env = {};
  for (const n of ${JSON.stringify(names)}) r.env[n] = n in process.env;
  const done = (v) => {
    r.net = v;
    try { fs.writeSync(2, 'MCPCELL-PROBE ' + JSON.stringify(r) + '\\n'); } catch {}
  };
  const s = net.connect({ host: ${JSON.stringify(host)}, port: 443 });
  const t = setTimeout(() => { s.destroy(); done('timeout'); }, 5000);
  t.unref();
  s.unref();
  s.on('connect', () => { clearTimeout(t); s.destroy(); done('connected'); });
  s.on('error', (e) => { clearTimeout(t); done(e.code || String(e)); });
}
`);
  return file;
}

// The probe's report in `stderr`, or null.
export function probeReport(stderr) {
  const m = /MCPCELL-PROBE (\{.*\})/.exec(stderr);
  return m ? JSON.parse(m[1]) : null;
}
