// The relay must be invisible: real clients talking to real servers get the same answers directly
// and through mcpcell, server->client requests are answered through it, and odd traffic (batches,
// unknown methods, invalid JSON, oversize lines) from either side is handled without ending the
// session. Set MCPCELL_TEST_SANDBOX=1 to run the same suite sandboxed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { ECHO, peers, tempHome, wrap } from './lib/env.mjs';
import { LineClient, killAll } from './lib/linejson.mjs';
import { connectSdk, eventually, FAKE_REPLY, ROOTS } from './lib/sdk.mjs';
import { inspect } from './lib/inspector.mjs';
import { readAudit, events } from './lib/audit.mjs';

let t;
before(() => { t = tempHome(); });
after(() => { killAll(); t.cleanup(); });

// Runs the same Inspector CLI call directly and through mcpcell; returns both results.
async function both(cmd, method, args, { env = t.env, opts } = {}) {
  const direct = await inspect(cmd, method, args, { env });
  const relayed = await inspect(wrap(cmd, opts), method, args, { env });
  return { direct, relayed };
}

describe('Inspector CLI: same results directly and through mcpcell', () => {
  const cases = [
    ['everything tools/list', () => peers.everything, 'tools/list', []],
    ['everything tools/call echo', () => peers.everything, 'tools/call', ['--tool-name', 'echo', '--tool-arg', 'message=hello through mcpcell']],
    ['everything tools/call get-sum', () => peers.everything, 'tools/call', ['--tool-name', 'get-sum', '--tool-arg', 'a=2', 'b=3']],
    ['everything resources/read', () => peers.everything, 'resources/read', ['--uri', 'demo://resource/static/document/architecture.md']],
    ['everything prompts/get', () => peers.everything, 'prompts/get', ['--prompt-name', 'args-prompt', '--prompt-args', 'city=Paris', 'state=Texas']],
  ];
  for (const [name, cmd, method, args] of cases) {
    test(name, async () => {
      const { direct, relayed } = await both(cmd(), method, args);
      assert.deepEqual(relayed, direct);
      assert.ok(JSON.stringify(direct).length > 20, 'the call returned something');
    });
  }

  test('filesystem tools/list and read_text_file', async () => {
    const root = join(t.root, 'fsroot');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'a.txt'), 'contents of a.txt\n');
    const cmd = peers.filesystem(root);
    const opts = { allowWrite: [root] };
    const list = await both(cmd, 'tools/list', [], { opts });
    assert.deepEqual(list.relayed, list.direct);
    assert.ok(list.direct.tools.some((x) => x.name === 'read_text_file'));
    const read = await both(cmd, 'tools/call', ['--tool-name', 'read_text_file', '--tool-arg', `path=${join(root, 'a.txt')}`], { opts });
    assert.deepEqual(read.relayed, read.direct);
    assert.match(read.direct.content[0].text, /contents of a\.txt/);
  });

  test('memory create_entities and read_graph', async () => {
    const entities = 'entities=[{"name":"mcpcell","entityType":"tool","observations":["relays"]}]';
    const results = {};
    for (const mode of ['direct', 'relayed']) {
      // Its own directory: t.root holds mcpcell's state, which a write grant never opens up (the
      // sandbox mounts such a grant read-only).
      const dir = join(t.root, `memory-${mode}`);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'memory.jsonl');
      const env = { ...t.env, MEMORY_FILE_PATH: file };
      const cmd = mode === 'direct' ? peers.memory : wrap(peers.memory, { allowWrite: [dir], allowEnv: ['MEMORY_FILE_PATH'] });
      const created = await inspect(cmd, 'tools/call', ['--tool-name', 'create_entities', '--tool-arg', entities], { env });
      const graph = await inspect(cmd, 'tools/call', ['--tool-name', 'read_graph'], { env });
      results[mode] = { created, graph };
    }
    assert.deepEqual(results.relayed, results.direct);
    assert.match(JSON.stringify(results.direct.graph), /relays/);
  });
});

describe('SDK client through mcpcell', () => {
  test('list_changed, sampling and roots reach the client and are answered', async () => {
    const direct = await connectSdk(peers.everything, { env: t.env });
    const relayed = await connectSdk(wrap(peers.everything), { env: t.env });
    try {
      for (const c of [direct, relayed]) {
        // server-everything registers capability-dependent tools after initialized, one
        // list_changed each, and asks for roots ~350 ms later.
        assert.ok(await eventually(() => c.seen.listChanged > 0 && c.seen.roots > 0), 'list_changed and roots/list');
      }
      const dTools = (await direct.client.listTools()).tools.map((x) => x.name).sort();
      const rTools = (await relayed.client.listTools()).tools.map((x) => x.name).sort();
      assert.deepEqual(rTools, dTools);
      assert.ok(rTools.includes('trigger-sampling-request'));
      // The pin filter may hold list_changed while it re-checks the lists and coalesce a burst
      // into fewer notifications; what matters is that the client hears of the change.
      assert.ok(relayed.seen.listChanged >= 1 && relayed.seen.listChanged <= direct.seen.listChanged,
        `list_changed: ${relayed.seen.listChanged} through mcpcell, ${direct.seen.listChanged} direct`);

      const sampled = await relayed.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } });
      assert.match(JSON.stringify(sampled), new RegExp(FAKE_REPLY));
      assert.equal(relayed.seen.sampling, 1);

      const roots = await relayed.client.callTool({ name: 'get-roots-list', arguments: {} });
      assert.match(JSON.stringify(roots), new RegExp(ROOTS[0].uri.replaceAll('/', '\\/')));
    } finally {
      await direct.close();
      await relayed.close();
    }
  });

  test('a 9 MB echo round-trips intact', async () => {
    const c = await connectSdk(wrap(peers.everything), { env: t.env });
    try {
      let message = '';
      // Mostly ASCII so the JSON line stays under server-everything's own 10 MiB cap.
      const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ.,;:!?-_=+()[]{}<>/|~@#$%^&* ü✓ "q" \\';
      while (message.length < 9_000_000) message += alphabet;
      message = message.slice(0, 9_000_000);
      const r = await c.client.callTool({ name: 'echo', arguments: { message } });
      assert.equal(r.content[0].text, `Echo: ${message}`);
    } finally {
      await c.close();
    }
  });
});

describe('raw traffic through mcpcell', () => {
  // `cat` as the server mirrors every line the client sends, so what comes back is exactly what
  // mcpcell forwarded in both directions.
  const mirror = () => new LineClient(wrap(['cat'], { extra: ['--quiet'] }), { env: t.env });

  test('lines pass byte for byte: batches, unknown methods, ids 0 and strings, escapes, unicode', async () => {
    const c = mirror();
    const lines = [
      '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"}]',
      '{"jsonrpc":"2.0","id":0,"method":"x/vendor-method","params":{"_meta":{"k":1},"unknown":[1,2.5e3,null]}}',
      '{ "jsonrpc" : "2.0" , "id" : "str-id" , "method" : "server/discover" }',
      '{"jsonrpc":"2.0","method":"t\\u00e9st","params":{"s":"\\ud83d\\ude00 \u00fcml\u00e4ut \u2713"}}',
      '{"jsonrpc":"2.0","id":-1,"result":{"nested":{"id":99,"method":"no"}}}',
      '{"jsonrpc":"2.0","id":"e","error":{"code":-32601,"message":"Method not found"}}',
    ];
    for (const l of lines) c.send(l);
    await c.waitFor(() => c.lines.length >= lines.length);
    assert.deepEqual(c.lines, lines);
    c.closeStdin();
    assert.equal((await c.exit()).code, 0);
  });

  test('a CR before the LF is tolerated', async () => {
    const c = mirror();
    c.send('{"jsonrpc":"2.0","id":1,"method":"ping"}\r');
    const m = await c.waitFor((x) => x && x.id === 1);
    assert.equal(m.method, 'ping');
    c.closeStdin();
    await c.exit();
  });

  test('invalid JSON from the client is answered, not forwarded, and the session goes on', async () => {
    const c = mirror();
    c.send('{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"broken":');
    c.send('not json at all');
    c.send(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));  // {"a":"\xff\xfe"}
    c.send('{"jsonrpc":"2.0","id":6,"method":"ping"}');
    await c.waitFor((x) => x && x.id === 6 && x.method === 'ping');
    const errors = c.lines.map((l) => JSON.parse(l)).filter((x) => x.error);
    assert.ok(errors.length >= 2, `parse errors answered: ${c.lines.join('\n')}`);
    for (const e of errors) {
      assert.equal(e.error.code, -32700);
      assert.match(e.error.message, /^mcpcell:/);
    }
    assert.ok(errors.some((e) => e.id === 5), 'the id of a cut-off request is found');
    // Nothing invalid reached the server (it would have come back as a non-error line).
    assert.equal(c.lines.filter((l) => !JSON.parse(l).error).length, 1);
    c.closeStdin();
    await c.exit();
    const invalid = events(readAudit(t.auditPath), 'message.invalid');
    assert.ok(invalid.length >= 3, 'invalid lines are logged');
  });

  test('invalid JSON and non-JSON output from the server are dropped and logged', async () => {
    const script = 'printf "starting up...\\n{\\"jsonrpc\\":\\"2.0\\",\\"method\\":\\"ok\\"}\\n{bad\\n"; exec cat';
    const c = new LineClient(wrap(['sh', '-c', script]), { env: t.env });
    await c.waitFor((x) => x && x.method === 'ok');
    c.send('{"jsonrpc":"2.0","id":1,"method":"ping"}');
    await c.waitFor((x) => x && x.id === 1);
    for (const l of c.lines) JSON.parse(l);  // stdout holds only valid JSON-RPC
    assert.equal(c.lines.length, 2);
    assert.match(c.stderr, /starting up/);  // shown to the user on stderr instead
    c.closeStdin();
    await c.exit();
  });

  test('oversize lines from the client are refused with an error for their id', async () => {
    const c = new LineClient(wrap(['cat'], { extra: ['--max-line-bytes', '4096'] }), { env: t.env });
    c.send(JSON.stringify({ jsonrpc: '2.0', id: 'big', method: 'tools/call', params: { x: 'A'.repeat(10000) } }));
    const e = await c.waitFor((x) => x && x.id === 'big');
    assert.equal(e.error?.code, -32001);
    assert.match(e.error.message, /^mcpcell:.*4096/);
    c.send('{"jsonrpc":"2.0","id":2,"method":"ping"}');
    await c.waitFor((x) => x && x.id === 2 && x.method === 'ping');
    assert.equal(c.lines.length, 2, 'the oversize line was not forwarded, not even in part');
    c.closeStdin();
    await c.exit();
    const over = events(readAudit(t.auditPath), 'message.oversize');
    assert.ok(over.some((r) => r.dir === 'c2s' && r.bytes > 10000));
  });

  test('big lines that arrive in pieces are recorded with the keyed hash of the whole line', async () => {
    // Big lines are hashed on a helper thread (and small ones by the audit writer): each record
    // must carry the keyed hash of exactly the bytes forwarded, also around a dropped oversize line.
    const c = new LineClient(wrap(['cat'], { extra: ['--quiet', '--max-line-bytes', '3000000'] }), { env: t.env });
    const line = (id, n) => JSON.stringify({ jsonrpc: '2.0', id, method: 'x/big', params: { d: 'x'.repeat(n).replace(/x{7}/g, (m, i) => String(i % 9973).padEnd(7, 'y')) } });
    const sendSlowly = async (s) => {
      const b = Buffer.from(s + '\n');
      for (let i = 0; i < b.length; i += 100000) {
        c.send(b.subarray(i, i + 100000), { raw: true });
        await new Promise((r) => setTimeout(r, 5));  // separate reads on mcpcell's side
      }
    };
    const big1 = line('a', 1_500_000), over = line('o', 3_500_000), big2 = line('b', 2_000_000);
    await sendSlowly(big1);
    await sendSlowly(over);
    await sendSlowly(big2);
    await c.waitFor((x) => x && x.id === 'b' && x.method === 'x/big', { timeoutMs: 30000 });
    const byId = Object.fromEntries(c.lines.map((l) => [JSON.parse(l).id, l]));
    assert.deepEqual(Object.keys(byId).sort(), ['a', 'b', 'o']);
    assert.equal(JSON.parse(byId.o).error?.code, -32001);  // never forwarded, answered instead
    assert.equal(byId.a, big1);
    assert.equal(byId.b, big2);
    c.closeStdin();
    assert.equal((await c.exit()).code, 0);
    const key = readFileSync(join(t.stateDir, 'audit.key'), 'utf8');
    const fp = (s) => createHmac('sha256', key).update(s).digest('hex').slice(0, 32);
    const recs = events(readAudit(t.auditPath), 'message').filter((r) => r.method === 'x/big');
    const seen = recs.map((r) => `${r.dir} ${r.id} ${r.hash}`).sort();
    assert.deepEqual(seen, [`c2s a ${fp(big1)}`, `c2s b ${fp(big2)}`, `s2c a ${fp(big1)}`, `s2c b ${fp(big2)}`].sort());
  });

  test('an oversize response from the server becomes an error for the waiting client', async () => {
    // mcpcell-echo answers with the message; over the cap the answer is replaced.
    const c = new LineClient(wrap([ECHO], { extra: ['--max-line-bytes', '4096'] }), { env: t.env });
    await c.initialize();
    const r = await c.request(7, 'tools/call', { name: 'echo', arguments: { message: 'B'.repeat(3000) + 'C'.repeat(1500) } }).catch((e) => e);
    assert.ok(r.error, `an error instead of the oversize result: ${JSON.stringify(r).slice(0, 300)}`);
    assert.equal(r.error.code, -32001);
    const ok = await c.request(8, 'tools/call', { name: 'echo', arguments: { message: 'small' } });
    assert.equal(ok.result.content[0].text, 'small');
    c.closeStdin();
    await c.exit();
  });

  test("the server's stderr passes through to mcpcell's stderr", async () => {
    const c = new LineClient(wrap([ECHO, '--stderr', 'hello from the server stderr']), { env: t.env });
    await c.initialize();
    c.closeStdin();
    await c.exit();
    assert.match(c.stderr, /hello from the server stderr/);
  });

  test('out-of-order responses and many messages in flight keep their order per direction', async () => {
    const c = mirror();
    const n = 2000;
    let burst = '';
    for (let i = 0; i < n; ++i) burst += JSON.stringify({ jsonrpc: '2.0', method: 'seq', params: { i } }) + '\n';
    c.send(burst, { raw: true });
    await c.waitFor(() => c.lines.length >= n, { timeoutMs: 20000 });
    c.lines.forEach((l, i) => assert.equal(JSON.parse(l).params.i, i));
    c.closeStdin();
    await c.exit();
  });
});
