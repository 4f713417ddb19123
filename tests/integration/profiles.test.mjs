// Profiles against real servers: each shipped profile whose server is installed here (filesystem,
// memory, everything) runs the real server through mcpcell, makes real tool calls, and checks that
// something its profile does not grant is denied — including the filesystem server reading outside
// its directories after the client's roots widened its own allowed list (protocol.md A8).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const MCPCELL = process.env.MCPCELL;
const SOURCE = process.env.MCPCELL_SOURCE;
const require = createRequire(path.join(SOURCE, 'package.json'));
const sdk = (p) => import(require.resolve(`@modelcontextprotocol/sdk/${p}`));
const { Client } = await sdk('client/index.js');
const { StdioClientTransport } = await sdk('client/stdio.js');
const { ListRootsRequestSchema } = await sdk('types.js');
const serverEntry = (pkg) => path.join(SOURCE, 'node_modules/@modelcontextprotocol', pkg, 'dist/index.js');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpcell-profiles-'));
const env = {
  ...process.env,
  XDG_STATE_HOME: path.join(tmp, 'state'),
  XDG_CONFIG_HOME: path.join(tmp, 'config'),
  MCPCELL_TEST_SECRET: 'canary-7d1e4b2f',
};

function mcpcell(args, opts = {}) {
  return spawnSync(MCPCELL, args, { env, encoding: 'utf8', timeout: 60000, ...opts });
}

// Isolation needs user namespaces; a kernel without them is the one reason to skip.
let sandboxSkip = false;
before(() => {
  const r = mcpcell(['--', '/bin/true']);
  if (r.status !== 0 && /namespace|unprivileged|user_namespaces/i.test(r.stderr)) {
    sandboxSkip = `this kernel cannot run the sandbox: ${r.stderr.trim().split('\n')[0]}`;
  }
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function connect(args, { roots = [] } = {}) {
  const client = new Client({ name: 'profiles-test', version: '0' },
    { capabilities: roots.length ? { roots: { listChanged: true } } : {} });
  if (roots.length) {
    client.setRequestHandler(ListRootsRequestSchema, async () => ({
      roots: roots.map((r) => ({ uri: 'file://' + r, name: path.basename(r) })),
    }));
  }
  const transport = new StdioClientTransport({ command: MCPCELL, args, env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  try {
    await client.connect(transport);
  } catch (e) {
    throw new Error(`could not start ${args.join(' ')}: ${e.message}\nstderr: ${stderr}`);
  }
  return { client, stderr: () => stderr };
}

const text = (result) => (result.content || []).map((c) => c.text || '').join('\n');

describe('profile command', () => {
  test('list shows at least 25 shipped server profiles and the runtime bases', () => {
    const r = mcpcell(['profile', 'list', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const servers = rows.filter((x) => x.builtin && !x.name.startsWith('runtime:') && x.name !== 'default');
    assert.ok(servers.length >= 25, `only ${servers.length} shipped profiles`);
    for (const name of ['default', 'runtime:node', 'runtime:python', 'runtime:deno', 'runtime:static'])
      assert.ok(rows.some((x) => x.name === name), name);
    assert.ok(rows.every((x) => !x.error), JSON.stringify(rows.filter((x) => x.error)));
  });

  test('check passes every shipped profile file and the example user profile', () => {
    const dir = path.join(SOURCE, 'profiles');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'schema.json')
      .map((f) => path.join(dir, f));
    files.push(path.join(SOURCE, 'examples/editors/fetch-docs-only.json'));
    const r = mcpcell(['profile', 'check', ...files]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, files.length);
  });

  test('check reports file, line, key and what was expected', () => {
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, '{\n  "schema": 1,\n  // comment\n  "network": {"allow": ["api.example.com:70000"]}\n}\n');
    const r = mcpcell(['profile', 'check', bad]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${bad}:4:\\d+: network.allow\\[0\\]: port must be a number from 1 to 65535`));
  });

  test('show explains every grant for a concrete command', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'show-'));
    const r = mcpcell(['profile', 'show', '--json', '--', 'node', serverEntry('server-filesystem'), dir]);
    assert.equal(r.status, 0, r.stderr);
    const pv = JSON.parse(r.stdout);
    assert.equal(pv.profile, 'filesystem');
    assert.match(pv.chosen_by, /npm package @modelcontextprotocol\/server-filesystem/);
    const w = pv.filesystem.write.find((g) => g.path === dir);
    assert.ok(w, JSON.stringify(pv.filesystem));
    assert.match(w.from, /^builtin:filesystem\.json:\d+$/);
    assert.equal(w.written, '${args}');
    assert.equal(pv.network.enabled, false);
  });

  test('a grant on a credential store is dropped with a warning naming it', () => {
    const r = mcpcell(['profile', 'show', 'default', '--allow-read', '~/.ssh', '--', '/bin/true']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: dropped read .*\/\.ssh \(from --allow-read\): hard denial: credential store/);
  });
});

describe('shipped profiles with real servers', () => {
  test('filesystem: works inside its directories, denied outside even after roots widen it', async (t) => {
    if (sandboxSkip) return t.skip(sandboxSkip);
    const granted = fs.mkdtempSync(path.join(tmp, 'granted-'));
    const outside = fs.mkdtempSync(path.join(tmp, 'outside-'));
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'top-secret-4f0a');
    fs.writeFileSync(path.join(granted, 'hello.txt'), 'hello from granted');
    // The client's roots name both directories: the server adopts them as its allowed list.
    const { client, stderr } = await connect(['--', 'node', serverEntry('server-filesystem'), granted],
      { roots: [granted, outside] });
    try {
      const read = await client.callTool({ name: 'read_text_file', arguments: { path: path.join(granted, 'hello.txt') } });
      assert.equal(text(read), 'hello from granted', stderr());
      const wrote = await client.callTool({ name: 'write_file',
        arguments: { path: path.join(granted, 'new.txt'), content: 'written through the sandbox' } });
      assert.ok(!wrote.isError, text(wrote));
      assert.equal(fs.readFileSync(path.join(granted, 'new.txt'), 'utf8'), 'written through the sandbox');
      // Give the server time to apply the roots (it asks for them after initialization).
      await new Promise((r) => setTimeout(r, 1000));
      const allowed = text(await client.callTool({ name: 'list_allowed_directories', arguments: {} }));
      const leak = await client.callTool({ name: 'read_text_file', arguments: { path: path.join(outside, 'secret.txt') } });
      assert.ok(leak.isError, `read outside succeeded: ${text(leak)} (server allowed: ${allowed})`);
      assert.doesNotMatch(text(leak), /top-secret-4f0a/);
      const write = await client.callTool({ name: 'write_file',
        arguments: { path: path.join(outside, 'planted.txt'), content: 'x' } });
      assert.ok(write.isError);
      assert.ok(!fs.existsSync(path.join(outside, 'planted.txt')));
    } finally {
      await client.close();
    }
  });

  test('memory: the graph is stored in the private state directory', async (t) => {
    if (sandboxSkip) return t.skip(sandboxSkip);
    const entry = serverEntry('server-memory');
    const pkgDir = path.dirname(entry);
    const before = fs.readdirSync(pkgDir);
    const { client, stderr } = await connect(['--', 'node', entry]);
    try {
      const created = await client.callTool({ name: 'create_entities', arguments: {
        entities: [{ name: 'mcpcell', entityType: 'tool', observations: ['sandboxes servers'] }] } });
      assert.ok(!created.isError, text(created) + stderr());
      const graph = await client.callTool({ name: 'read_graph', arguments: {} });
      assert.match(text(graph), /sandboxes servers/);
    } finally {
      await client.close();
    }
    const file = path.join(tmp, 'state/mcpcell/homes/@modelcontextprotocol__server-memory/memory.jsonl');
    assert.ok(fs.existsSync(file), `no ${file}`);
    assert.match(fs.readFileSync(file, 'utf8'), /sandboxes servers/);
    assert.deepEqual(fs.readdirSync(pkgDir), before, 'the package directory was written to');
  });

  test('everything: tools work; no secrets in its environment; no network', async (t) => {
    if (sandboxSkip) return t.skip(sandboxSkip);
    const { client, stderr } = await connect(['--', 'node', serverEntry('server-everything')]);
    try {
      const echo = await client.callTool({ name: 'echo', arguments: { message: 'through a profile' } });
      assert.match(text(echo), /through a profile/, stderr());
      const sum = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
      assert.match(text(sum), /5/);
      const envDump = text(await client.callTool({ name: 'get-env', arguments: {} }));
      assert.doesNotMatch(envDump, /canary-7d1e4b2f/);
      assert.doesNotMatch(envDump, /MCPCELL_TEST_SECRET/);
      const gz = await client.callTool({ name: 'gzip-file-as-resource',
        arguments: { name: 'x.gz', data: 'https://registry.npmjs.org/-/ping', outputType: 'resource' } });
      assert.ok(gz.isError || /fail|error|denied/i.test(text(gz)), `network fetch worked: ${text(gz).slice(0, 200)}`);
    } finally {
      await client.close();
    }
  });

  test('--allow-env passes one more variable, the profile nothing else', async (t) => {
    if (sandboxSkip) return t.skip(sandboxSkip);
    const { client } = await connect(['--allow-env', 'MCPCELL_TEST_SECRET', '--', 'node', serverEntry('server-everything')]);
    try {
      const envDump = text(await client.callTool({ name: 'get-env', arguments: {} }));
      // The variable reaches the server; its value comes back redacted, because the scanner
      // treats a *_SECRET assignment in a result as a secret (that is the scan policy working).
      assert.match(envDump, /"MCPCELL_TEST_SECRET": "(canary-7d1e4b2f|\[REDACTED:[a-z0-9-]+\])"/);
    } finally {
      await client.close();
    }
  });
});
