// A line-JSON client: spawns a command, writes raw lines or objects to its stdin, and reads its
// stdout line by line. For tests that must see the exact bytes (the SDK client re-serializes and
// hides what went over the wire).
import { spawn } from 'node:child_process';

// Every client still running; killAll() in an after() hook keeps a failed test from leaving a
// child that holds the test process open.
const live = new Set();
export function killAll() {
  for (const c of live) c.child.kill('SIGKILL');
}

export class LineClient {
  // argv: [cmd, ...args]; options: { env, cwd }
  constructor(argv, { env, cwd } = {}) {
    this.child = spawn(argv[0], argv.slice(1), { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this);
    this.lines = [];       // every stdout line, in order
    this.stderr = '';
    this.stdoutRaw = [];   // Buffers, for byte-exact checks
    this.waiters = [];
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => { live.delete(this); resolve({ code, signal }); });
    });
    this.closed = new Promise((resolve) => this.child.on('close', resolve));
    let pending = Buffer.alloc(0);
    this.child.stdout.on('data', (chunk) => {
      this.stdoutRaw.push(chunk);
      pending = Buffer.concat([pending, chunk]);
      let nl;
      while ((nl = pending.indexOf(10)) >= 0) {
        this.lines.push(pending.subarray(0, nl).toString('utf8'));
        pending = pending.subarray(nl + 1);
        this.#wake();
      }
    });
    this.child.stderr.on('data', (c) => { this.stderr += c.toString('utf8'); this.#wake(); });
    this.child.stdin.on('error', () => {});  // EPIPE when the child is gone: tests check exits
  }

  get pid() { return this.child.pid; }

  #wake() { for (const w of this.waiters.splice(0)) w(); }

  // Writes a string or Buffer (a raw line; '\n' added unless `raw`) or an object (as JSON).
  send(msg, { raw = false } = {}) {
    if (Buffer.isBuffer(msg)) {
      this.child.stdin.write(raw ? msg : Buffer.concat([msg, Buffer.from('\n')]));
      return;
    }
    const s = typeof msg === 'string' ? msg : JSON.stringify(msg);
    this.child.stdin.write(raw ? s : s + '\n');
  }

  // Resolves with the first line (parsed when it is JSON, else the string) at index >= `from` that
  // satisfies `pred`; rejects after `timeoutMs`.
  async waitFor(pred, { timeoutMs = 10000, from = 0 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let i = from;
    for (;;) {
      for (; i < this.lines.length; ++i) {
        let v = this.lines[i];
        try { v = JSON.parse(v); } catch {}
        if (pred(v)) return v;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout; stdout lines: ${JSON.stringify(this.lines).slice(0, 2000)}\nstderr: ${this.stderr.slice(-2000)}`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  // Sends a request and waits for the response with the same id.
  async request(id, method, params = {}, opts) {
    this.send({ jsonrpc: '2.0', id, method, params });
    return this.waitFor((m) => m && typeof m === 'object' && m.id === id && !('method' in m), opts);
  }

  // MCP initialize + initialized. `capabilities` are the client's.
  async initialize(capabilities = {}) {
    const r = await this.request(0, 'initialize', {
      protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 'mcpcell-test', version: '0' },
    });
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return r;
  }

  closeStdin() { this.child.stdin.end(); }

  kill(sig = 'SIGTERM') { this.child.kill(sig); }

  // Resolves {code, signal} or rejects after timeoutMs.
  async exit(timeoutMs = 10000) {
    let t;
    const timeout = new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`no exit within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`)), timeoutMs); });
    try { return await Promise.race([this.exited, timeout]); } finally { clearTimeout(t); }
  }
}

// Runs argv to completion with `input` on stdin; resolves { code, signal, stdout, stderr }.
export function run(argv, { env, cwd, input = '', timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.stdin.on('error', () => {});
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timeout: ${argv.join(' ')}\n${stderr}`)); }, timeoutMs);
    child.on('error', (e) => { clearTimeout(t); reject(e); });
    child.on('close', (code, signal) => { clearTimeout(t); resolve({ code, signal, stdout, stderr }); });
    child.stdin.end(input);
  });
}
