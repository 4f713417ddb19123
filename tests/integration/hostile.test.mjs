// Hostile traffic, end to end: a seeded generator writes a stream of lines a broken or malicious
// peer could send (valid JSON-RPC in odd spellings, truncated and non-JSON lines, invalid UTF-8,
// raw control characters, nesting past any sane depth, oversize lines, blank lines, a last line
// without its newline), in random chunk sizes, through the real mcpcell binary. Whatever the mix:
//   - mcpcell never crashes or hangs, and exits with the server's status;
//   - everything it writes to the client is valid UTF-8 and valid JSON;
//   - every well-formed message arrives byte for byte and in order, and nothing is invented;
//   - nothing is lost: each line the peer sent has exactly one record (forwarded, invalid or
//     oversize) in the audit log;
//   - no server process is left behind.
// The in-process fuzzers (tests/fuzz) go deeper into each parser; this checks the whole path, with
// the real framing, pipes and audit writer. A failure prints its seed: MCPCELL_HOSTILE_SEED=N
// replays it (and adds it to the seeds run).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempHome, wrap } from './lib/env.mjs';
import { LineClient, killAll, run } from './lib/linejson.mjs';
import { readAudit, events } from './lib/audit.mjs';
import { newMark, waitGone } from './lib/procs.mjs';

const MAX_LINE = 65536;
const SEEDS = [1, 2, 3, ...(process.env.MCPCELL_HOSTILE_SEED ? [Number(process.env.MCPCELL_HOSTILE_SEED)] : [])];

function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)] };
}

// Words no scan rule fires on: the well-formed lines must pass untouched.
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'kilo'];

// One line: its bytes (without '\n') and what mcpcell must do with it: 'must' be forwarded byte
// for byte, 'never' be forwarded, or 'either' (well-formed JSON that a relay may reasonably refuse,
// e.g. nesting deeper than it parses). Each line carries a unique marker so it can be found.
function makeLine(r, n, dir) {
  const words = (k) => Array.from({ length: k }, () => r.pick(WORDS)).join(' ');
  const mark = `m${n}`;
  const note = (extra = {}) => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `${mark} ${words(1 + r.int(6))}`, ...extra } });
  const request = () => ({ jsonrpc: '2.0', id: `${mark}`, method: r.pick(['ping', 'roots/list', 'x/vendor']), params: { q: mark } });
  const s = (v) => Buffer.from(JSON.stringify(v));
  switch (r.int(17)) {
    case 0: return { kind: 'must', bytes: s(note()) };
    case 1: return { kind: 'must', bytes: Buffer.from(JSON.stringify(note()).replaceAll(':', ' : ').replaceAll(',', ' ,\t')) };
    case 2: return { kind: 'must', bytes: s(dir === 's2c' ? { jsonrpc: '2.0', id: 100000 + n, result: { mark, n: [0, -1, 2.5e3, null, true] } } : request()) };
    case 3: return { kind: 'must', bytes: s([note(), request()]) };  // a batch
    case 4: return { kind: 'must', bytes: s(note({ data: `${mark} \u00e9\u00fc\u2713 \ud83d\ude00 "q" \\ /` })) };
    case 5: {  // deep but sane nesting
      let v = [mark];
      for (let i = 0; i < 200; ++i) v = [v];
      return { kind: 'must', bytes: s(note({ deep: v })) };
    }
    case 6: return { kind: 'either', bytes: Buffer.from(`${'['.repeat(2000)}"${mark}"${']'.repeat(2000)}`) };
    case 7: return { kind: 'never', bytes: Buffer.from(JSON.stringify(note()).slice(0, 10 + r.int(40))) };  // cut off
    case 8: return { kind: 'never', bytes: Buffer.from(`[${mark}] server starting up: ${words(4)}`) };  // a log line
    case 9: {  // invalid UTF-8 inside a string: a stray continuation, an overlong '/', a UTF-16 surrogate
      const bad = r.pick([[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80]]);
      const [a, b] = JSON.stringify(note()).split(mark);
      return { kind: 'never', bytes: Buffer.concat([Buffer.from(a + mark), Buffer.from(bad), Buffer.from(b)]) };
    }
    case 10: {  // a raw control character (NUL, ESC, DEL is fine) inside a string
      const [a, b] = JSON.stringify(note()).split(mark);
      return { kind: 'never', bytes: Buffer.concat([Buffer.from(a + mark), Buffer.from([r.pick([0x00, 0x1b, 0x07, 0x0b])]), Buffer.from(b)]) };
    }
    case 11: return { kind: 'never', bytes: s(note({ pad: 'x'.repeat(MAX_LINE + r.int(3 * MAX_LINE)) })) };  // oversize
    case 12: return { kind: 'never', bytes: Buffer.from(r.pick(['', ' ', '\t', '\r', ' \r'])), blank: true };
    case 13: return { kind: 'never', bytes: Buffer.from(`{"jsonrpc":"2.0","method":"${mark}"}}`) };  // trailing garbage
    case 14: return { kind: 'never', bytes: Buffer.from(`{"jsonrpc":"2.0","method":"${mark}",}`) };  // trailing comma
    case 15: {  // JSON.parse takes these, the filters' parser does not, or peers disagree on them
      const t = r.pick([`"data":"${mark} \\ud800 lone"`, `"data":"${mark}","n":1e400`, `"data":"${mark}"},"method":"x/other","params":{"a":1`]);
      return { kind: 'never', bytes: Buffer.from(`{"jsonrpc":"2.0","method":"notifications/message","params":{${t}}}`) };
    }
    default: return { kind: 'must', bytes: s(note({ big: words(2000 + r.int(6000)) })) };  // tens of KB
  }
}

function generate(seed, dir, count) {
  const r = rng(seed);
  const lines = Array.from({ length: count }, (_, n) => makeLine(r, n, dir));
  // Half the streams end with a last line that has no newline (a well-formed one, so it counts).
  const lastCut = r.int(2) === 0;
  if (lastCut) lines.push({ kind: 'must', bytes: Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { data: `m${count} last` } })), noNewline: true });
  const parts = lines.map((l) => (l.noNewline ? l.bytes : Buffer.concat([l.bytes, Buffer.from('\n')])));
  return { lines, stream: Buffer.concat(parts), r };
}

// The stream in random chunks, some a byte long, so lines arrive split everywhere.
function chunks(r, buf) {
  const out = [];
  for (let i = 0; i < buf.length;) {
    const n = r.pick([1, 7, 100, 4096, 65536, 300000]);
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// The checks shared by both directions. `out`: mcpcell's stdout lines (raw Buffers).
// `replies`: patterns of the lines mcpcell itself may write (its error answers).
function checkOutput(seed, lines, out, { replies = [] } = {}) {
  const where = `seed ${seed}`;
  const sent = new Map(lines.map((l) => [l.bytes.toString('latin1'), l]));
  const forwarded = [];
  for (const b of out) {
    let text;
    try { text = utf8.decode(b); } catch { assert.fail(`${where}: mcpcell wrote invalid UTF-8: ${b.toString('latin1').slice(0, 200)}`); }
    try { JSON.parse(text); } catch { assert.fail(`${where}: mcpcell wrote a line that is not JSON: ${text.slice(0, 200)}`); }
    const l = sent.get(b.toString('latin1'));
    if (l) {
      assert.notEqual(l.kind, 'never', `${where}: a line that must not pass was forwarded: ${text.slice(0, 200)}`);
      forwarded.push(l);
    } else {
      assert.ok(replies.some((p) => p.test(text)),
        `${where}: mcpcell wrote a line nobody sent: ${text.slice(0, 300)}`);
    }
  }
  const must = lines.filter((l) => l.kind === 'must');
  const got = forwarded.filter((l) => l.kind === 'must');
  assert.equal(got.length, must.length, `${where}: well-formed lines lost: ${must.length - got.length}`);
  for (let i = 0; i < must.length; ++i)
    assert.equal(got[i], must[i], `${where}: well-formed line ${i} out of order`);
}

function checkRecords(seed, auditPath, dir, lines) {
  const where = `seed ${seed}`;
  const records = readAudit(auditPath);  // throws on a line that is not JSON
  const mine = records.filter((x) => x.dir === dir && ['message', 'message.invalid', 'message.oversize'].includes(x.event));
  assert.equal(mine.length, lines.length, `${where}: ${lines.length} lines sent ${dir}, ${mine.length} recorded`);
  const oversize = lines.filter((l) => l.bytes.length > MAX_LINE).length;
  assert.equal(events(mine, 'message.oversize').length, oversize, `${where}: oversize lines recorded as such`);
  assert.equal(events(records, 'session.end').length, 1, `${where}: one session.end`);
  return records;
}

let dir;
before(() => { dir = mkdtempSync(join(tmpdir(), 'mcpcell-hostile-')); });
after(() => { killAll(); rmSync(dir, { recursive: true, force: true }); });

describe('hostile traffic from the server', () => {
  for (const seed of SEEDS) {
    test(`seed ${seed}: every line forwarded or recorded, the output valid, the status kept`, async () => {
      const t = tempHome();
      const { lines, stream, r } = generate(seed, 's2c', 300);
      const data = join(dir, `s2c-${seed}.bin`);
      const sizes = chunks(r, stream).map((c) => c.length);
      writeFileSync(data, stream);
      // The server writes the stream in the generator's chunk sizes, pausing now and then so the
      // chunks arrive as separate reads, and exits 3 without waiting for the client.
      const script = join(dir, 'writer.cjs');
      writeFileSync(script, `
        const fs = require('fs');
        const buf = fs.readFileSync(process.argv[2]);
        const sizes = JSON.parse(process.argv[3]);
        let i = 0, k = 0;
        (function step() {
          while (k < sizes.length) {
            fs.writeSync(1, buf.subarray(i, i + sizes[k]));
            i += sizes[k++];
            if (k % 7 === 0) return setTimeout(step, 1);
          }
          process.exit(3);
        })();`);
      const mark = newMark();
      const env = { ...t.env, [mark.split('=')[0]]: mark.split('=')[1] };
      const c = new LineClient(wrap([process.execPath, script, data, JSON.stringify(sizes)],
        { extra: ['--quiet', '--max-line-bytes', String(MAX_LINE)], allowRead: [dir], allowEnv: [mark.split('=')[0]] }), { env });
      const { code, signal } = await c.exit(30000);
      await c.closed;
      assert.equal(signal, null, `seed ${seed}: mcpcell died of ${signal}; stderr: ${c.stderr.slice(-1000)}`);
      assert.equal(code, 3, `seed ${seed}: the server's status; stderr: ${c.stderr.slice(-1000)}`);
      const out = splitLines(Buffer.concat(c.stdoutRaw));
      checkOutput(seed, lines, out);
      const records = checkRecords(seed, t.auditPath, 's2c', lines);
      assert.equal(events(records, 'session.end')[0].exit, 3);
      await waitGone(mark, 2000);
      t.cleanup();
    });
  }
});

describe('hostile traffic from the client', () => {
  for (const seed of SEEDS) {
    test(`seed ${seed}: every line forwarded or answered and recorded, nothing invalid reaches the server`, async () => {
      const t = tempHome();
      const { lines, stream, r } = generate(seed + 1000, 'c2s', 300);
      const mark = newMark();
      const env = { ...t.env, [mark.split('=')[0]]: mark.split('=')[1] };
      // `cat` mirrors what reached it: what comes back is exactly what mcpcell forwarded.
      const c = new LineClient(wrap(['cat'], { extra: ['--quiet', '--max-line-bytes', String(MAX_LINE)], allowEnv: [mark.split('=')[0]] }), { env });
      for (const piece of chunks(r, stream)) {
        c.send(piece, { raw: true });
        if (r.int(8) === 0) await new Promise((res) => setTimeout(res, 1));
      }
      c.closeStdin();
      const { code, signal } = await c.exit(30000);
      await c.closed;
      assert.equal(signal, null, `seed ${seed}: mcpcell died of ${signal}; stderr: ${c.stderr.slice(-1000)}`);
      assert.equal(code, 0, `seed ${seed}: cat's status; stderr: ${c.stderr.slice(-1000)}`);
      const out = splitLines(Buffer.concat(c.stdoutRaw));
      // Besides the mirrored lines, the client gets mcpcell's error answers to the invalid and
      // oversize requests whose id it could see.
      checkOutput(seed, lines, out, { replies: [/^\{"jsonrpc":"2\.0","id":.*"error":\{"code":-32(700|001),"message":"mcpcell: /] });
      checkRecords(seed, t.auditPath, 'c2s', lines);
      await waitGone(mark, 2000);
      t.cleanup();
    });
  }
});

// The highest VmRSS (kB) of process `pid`, sampled every 100 ms for `ms`.
async function peakRss(pid, ms) {
  let peak = 0;
  for (let waited = 0; waited < ms; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    peak = Math.max(peak, Number(/VmRSS:\s+(\d+)/.exec(status)[1]));
  }
  return peak;
}

function splitLines(buf) {
  const out = [];
  for (let i = 0; i < buf.length;) {
    let nl = buf.indexOf(10, i);
    if (nl < 0) nl = buf.length;
    out.push(buf.subarray(i, nl));
    i = nl + 1;
  }
  return out;
}

// A server that floods a client that is not reading: mcpcell stops reading the server once about
// 1 MiB waits for the client (the pipes hold the rest), so its memory stays bounded, and nothing
// is lost or reordered once the client reads again.
describe('a flood towards a client that does not read', () => {
  test('mcpcell stays under 16 MiB while 64 MiB wait, then delivers every line in order', async () => {
    const t = tempHome();
    const script = join(dir, 'flood.cjs');
    const count = 64 * 1024;  // 64 MiB of 1 KiB notifications
    writeFileSync(script, `
      const fs = require('fs');
      const pad = 'x'.repeat(960);
      for (let i = 0; i < ${count}; ++i)
        fs.writeSync(1, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { n: i, pad } }) + '\\n');
      process.exit(0);`);
    // A first session compiles the scan database into this HOME's cache, as a user's first one
    // does; compiling touches all of Hyperscan's compiler, which is not what is measured here.
    await run(wrap(['true'], { extra: ['--quiet'] }), { env: t.env });
    const argv = wrap([process.execPath, script], { extra: ['--quiet'], allowRead: [dir] });
    const child = spawn(argv[0], argv.slice(1), { env: t.env, stdio: ['pipe', 'pipe', 'ignore'] });
    child.stdout.pause();
    // Let the server fill everything it can: the pipes, and whatever mcpcell would hold.
    const peak = await peakRss(child.pid, 2000);
    assert.ok(peak < 16 * 1024, `mcpcell's resident memory while the client did not read: ${peak} kB`);
    let n = 0, pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      pending += d;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        assert.equal(JSON.parse(pending.slice(0, nl)).params.n, n++);
        pending = pending.slice(nl + 1);
      }
    });
    child.stdout.resume();
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 0);
    assert.equal(n, count, 'every line arrived');
    t.cleanup();
  });
});

// The other way round: a server that never reads its stdin while the client floods it. mcpcell's
// memory stays bounded, and the server's own output keeps reaching the client meanwhile (full
// duplex: server-to-client traffic never waits on client-to-server traffic).
describe('a flood towards a server that does not read', () => {
  test('mcpcell stays under 16 MiB, and the server keeps being heard', async () => {
    const t = tempHome();
    const script = join(dir, 'deaf.cjs');
    writeFileSync(script, `
      let n = 0;
      setInterval(() => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { n: n++ } }) + '\\n'), 10);`);
    await run(wrap(['true'], { extra: ['--quiet'] }), { env: t.env });  // the scan cache, as above
    const c = new LineClient(wrap([process.execPath, script], { extra: ['--quiet'], allowRead: [dir] }), { env: t.env });
    await c.waitFor((m) => m?.params?.n === 0);
    const line = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { pad: 'y'.repeat(1000) } });
    const chunk = Buffer.from(`${line}\n`.repeat(1024));  // 1 MiB
    for (let i = 0; i < 64; ++i) c.send(chunk, { raw: true });
    const heardBefore = c.lines.length;
    const peak = await peakRss(c.pid, 2000);
    assert.ok(peak < 16 * 1024, `mcpcell's resident memory while the server did not read: ${peak} kB`);
    const heard = c.lines.length - heardBefore;
    assert.ok(heard >= 50, `the server's notifications during the 2 s stall: ${heard}`);
    for (const l of c.lines) assert.equal(JSON.parse(l).method, 'notifications/message');
    c.kill('SIGTERM');
    await c.exit();
    t.cleanup();
  });
});
