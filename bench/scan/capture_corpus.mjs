#!/usr/bin/env node
// Captures the benign corpus for the scanner: every line the real npm servers (server-everything,
// server-filesystem, server-memory) and a client exchange over a short session of lists and tool
// calls, plus synthetic tool results full of things that look like secrets but are not (hashes,
// UUIDs, public keys, certificates, base64 images, publishable keys). Output: one JSONL file per
// source under tests/unit/scan/corpus/, each line {"dir":"c2s"|"s2c","line":"<wire line>"}.
// Run: node bench/scan/capture_corpus.mjs   (from the repository root)
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomUUID, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = join(root, 'tests/unit/scan/corpus');
const mcp = (pkg) => join(root, 'node_modules/@modelcontextprotocol', pkg, 'dist/index.js');

async function session(argv, calls, env = {}) {
  const child = spawn(process.execPath, argv, {
    env: { PATH: '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8', ...env },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const lines = [];
  const waiting = new Map();
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push({ dir: 's2c', line });
      let m;
      try { m = JSON.parse(line); } catch { continue; }
      if (m.id !== undefined && waiting.has(m.id)) { waiting.get(m.id)(); waiting.delete(m.id); }
      if (m.method && m.id !== undefined) {  // server request: answer like a plain client
        const r = JSON.stringify({ jsonrpc: '2.0', id: m.id, result: m.method === 'roots/list' ? { roots: [] } : {} });
        lines.push({ dir: 'c2s', line: r });
        child.stdin.write(r + '\n');
      }
    }
  });
  let id = 0;
  const send = (method, params, notify = false) => new Promise((res) => {
    const msg = notify ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', id: ++id, method, params };
    const line = JSON.stringify(msg);
    lines.push({ dir: 'c2s', line });
    if (notify) { child.stdin.write(line + '\n'); return res(); }
    waiting.set(msg.id, res);
    child.stdin.write(line + '\n');
    setTimeout(res, 5000);
  });
  await send('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'corpus', version: '0' } });
  await send('notifications/initialized', {}, true);
  await new Promise((r) => setTimeout(r, 300));
  for (const m of ['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list']) await send(m, {});
  for (const [name, args] of calls) await send('tools/call', { name, arguments: args });
  child.kill();
  return lines;
}

const save = (name, lines) => {
  writeFileSync(join(out, name + '.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  console.log(name, lines.length, 'lines');
};

mkdirSync(out, { recursive: true });
save('server-everything', await session([mcp('server-everything')], [
  ['echo', { message: 'hello from the corpus' }], ['get-sum', { a: 2, b: 3 }], ['get-tiny-image', {}],
  ['get-structured-content', { location: 'New York' }], ['get-resource-links', { count: 3 }],
  ['get-resource-reference', { resourceType: 'Text', resourceId: 1 }], ['get-annotated-message', { messageType: 'success', includeImage: true }],
  ['get-env', {}],
]));

const dir = mkdtempSync(join(tmpdir(), 'corpus-fs-'));
const sdkReadme = readFileSync(join(root, 'node_modules/@modelcontextprotocol/sdk/README.md'), 'utf8');
writeFileSync(join(dir, 'README.md'), sdkReadme);
writeFileSync(join(dir, 'package.json'), readFileSync(join(root, 'package.json'), 'utf8'));
writeFileSync(join(dir, 'notes.txt'), 'Meeting notes\n- ship v1\n- fix the login page\n');
save('server-filesystem', await session([mcp('server-filesystem'), dir], [
  ['list_allowed_directories', {}], ['list_directory', { path: dir }], ['directory_tree', { path: dir }],
  ['read_text_file', { path: join(dir, 'README.md') }], ['read_text_file', { path: join(dir, 'package.json') }],
  ['get_file_info', { path: join(dir, 'notes.txt') }], ['search_files', { path: dir, pattern: '*.md' }],
]));

save('server-memory', await session([mcp('server-memory')], [
  ['create_entities', { entities: [{ name: 'Ada', entityType: 'person', observations: ['wrote the first program', 'born 1815'] }] }],
  ['create_relations', { relations: [{ from: 'Ada', to: 'Ada', relationType: 'knows' }] }],
  ['read_graph', {}], ['search_nodes', { query: 'Ada' }],
], { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') }));

// Synthetic look-alikes.
const hex = (n) => randomBytes(n).toString('hex');
const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const { publicKey: edPub } = generateKeyPairSync('ed25519');
const pubPem = publicKey.export({ type: 'spki', format: 'pem' });
const sshPub = 'ssh-ed25519 ' + edPub.export({ type: 'spki', format: 'der' }).subarray(12).toString('base64') + ' dev@laptop';
const certLike = '-----BEGIN CERTIFICATE-----\n' + randomBytes(600).toString('base64').match(/.{1,64}/g).join('\n') + '\n-----END CERTIFICATE-----\n';
const png = randomBytes(3000).toString('base64');
const texts = [
  `commit ${hex(20)}\nAuthor: Dev <dev@example.com>\n\n    Fix parser\n\nsha256: ${hex(32)}\nmd5 ${hex(16)}`,
  `request ${randomUUID()} took 12ms; trace ${hex(16)} span ${hex(8)}; session ${randomUUID()}`,
  pubPem + '\n' + sshPub,
  certLike,
  `"integrity": "sha512-${randomBytes(64).toString('base64')}"`,
  'Stripe publishable key: pk_live_' + randomBytes(18).toString('hex') + ' and pk_test_' + randomBytes(18).toString('hex'),
  'Google Analytics: G-' + 'X7Q2P9RTL1' + ', AWS account 123456789012, arn:aws:iam::123456789012:role/ci',
  'docker image sha256:' + hex(32) + ' from registry',
  'Build ' + new Date(0).toISOString() + ' version 3.2.1, node v20.20.2, Python 3.11.4',
  'password: (hidden)\ntoken: see vault\napi_key = <set me>\nsecret=${SECRET}\nPASSWORD_MIN_LENGTH=12',
  'postgres://localhost:5432/app and https://example.com/a/b?c=d and mailto:team@example.org',
  '| id | name | total |\n|---|---|---|\n| 1 | Widget | 19.99 |\n| 2 | Gadget | 5.00 |',
  'function add(a, b) {\n  return a + b;\n}\nconst key = process.env.API_KEY;\n',
  'Ünïcödé text: 日本語のテキスト, emoji 👨‍👩‍👧 ❤️, Persian می‌خواهم, Hebrew שלום',
  'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.  (unsigned token in docs)',
];
const synth = [];
texts.forEach((t, i) => synth.push({ dir: 's2c', line: JSON.stringify({ jsonrpc: '2.0', id: 100 + i, result: { content: [{ type: 'text', text: t }] } }) }));
synth.push({ dir: 's2c', line: JSON.stringify({ jsonrpc: '2.0', id: 200, result: { content: [{ type: 'image', data: png, mimeType: 'image/png' }] } }) });
save('synthetic', synth);
