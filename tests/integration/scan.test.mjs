// Scanning through mcpcell with a real client (the official SDK): the poisoned fixture server's
// poisoned tools are withheld, secrets in results are redacted, a private key in tool arguments
// blocks the call, hidden characters and terminal escapes are stripped, and the audit trail names
// rules and fingerprints but never holds a secret. Then the real server-everything: sampling is
// allowed and logged, an environment secret in get-env is redacted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SOURCE, NODE, tempHome, wrap, peers } from './lib/env.mjs';
import { connectSdk } from './lib/sdk.mjs';
import { readAudit } from './lib/audit.mjs';

const FIXTURE = [NODE, join(SOURCE, 'examples/servers/poisoned/server.mjs')];
const SECRETS = {
  aws: 'AKIAQYLPMN5HHHFPZAM2',
  stripe: 'sk_live_4eC39HqLyjWDarjtT1zdp7dcQ8nR2xYv',
  pemLine: 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
};
const HIDDEN = /[\u{E0000}-\u{E007F}\u001b\u200b]/u;

let h;
before(() => { h = tempHome('mcpcell-scan-'); });
after(() => h.cleanup());

const records = () => readAudit(h.auditPath);
const textOf = (r) => r.content.map((c) => c.text).join('\n');

test('the poisoned fixture through mcpcell, driven by the SDK client', async () => {
  const s = await connectSdk(wrap(FIXTURE), { env: h.env });
  try {
    const { tools } = await s.client.listTools();
    const names = tools.map((t) => t.name).sort();
    // add (<IMPORTANT> block), format_text (parameter name), list_files (ANSI), weather (tag chars)
    for (const bad of ['add', 'format_text', 'list_files', 'weather'])
      assert.ok(!names.includes(bad), `poisoned tool ${bad} reached the client: ${names}`);
    for (const good of ['echo', 'get_config', 'read_page', 'store_note'])
      assert.ok(names.includes(good), `clean tool ${good} is missing: ${names}`);
    for (const t of tools) assert.doesNotMatch(JSON.stringify(t), HIDDEN);

    const cfg = await s.client.callTool({ name: 'get_config', arguments: {} });
    const txt = textOf(cfg);
    assert.match(txt, /AWS_ACCESS_KEY_ID=\[REDACTED:aws-access-key-id\]/);
    assert.match(txt, /STRIPE_KEY=\[REDACTED:stripe-secret-key\]/);
    assert.match(txt, /\[REDACTED:private-key\]/);
    assert.match(txt, /region=eu-west-1/);
    // A ghp_ token whose CRC32 does not check out is no GitHub token, but a high-entropy value
    // assigned to a secret-looking name still is a secret: the generic rule takes it.
    assert.match(txt, /GITHUB_TOKEN=\[REDACTED:generic-secret-assignment\]/);
    assert.equal(cfg.structuredContent.stripe, '[REDACTED:stripe-secret-key]');
    const wire = JSON.stringify(cfg);
    for (const v of Object.values(SECRETS)) assert.ok(!wire.includes(v), `secret leaked: ${v}`);

    const page = await s.client.callTool({ name: 'read_page', arguments: { url: 'https://x.test' } });
    assert.doesNotMatch(textOf(page), HIDDEN);
    assert.match(textOf(page), /^Welcome!/);

    // The client tries to send a private key to the server: the call never reaches it.
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\n' + SECRETS.pemLine + '\nQyNTUxOQAAACBkZXZpY2Uta2V5LWZvci10ZXN0\n-----END OPENSSH PRIVATE KEY-----\n';
    await assert.rejects(s.client.callTool({ name: 'store_note', arguments: { note: pem } }),
      /mcpcell: blocked by rule private-key/);
    // An API key the client sends is redacted on its way to the server.
    const echo = await s.client.callTool({ name: 'echo', arguments: { message: 'use ' + SECRETS.stripe } });
    assert.equal(textOf(echo), 'Echo: use [REDACTED:stripe-secret-key]');
  } finally {
    await s.close();
  }
  const recs = records();
  const raw = readFileSync(h.auditPath, 'utf8');
  for (const v of Object.values(SECRETS)) assert.ok(!raw.includes(v), `audit log holds a secret: ${v}`);
  const redact = recs.filter((r) => r.event === 'policy.redact' && r.rule === 'stripe-secret-key');
  assert.ok(redact.length >= 2, 'policy.redact for the stripe key both ways');
  for (const r of redact) {
    assert.match(r.fingerprint, /\S{8,}/);
    assert.ok(r.dir === 'c2s' || r.dir === 's2c');
  }
  assert.ok(redact.some((r) => r.dir === 's2c' && r.tool === 'get_config' && r.method === 'tools/call'));
  assert.ok(redact.some((r) => r.dir === 'c2s' && r.tool === 'echo'));
  const block = recs.filter((r) => r.event === 'policy.block');
  assert.equal(block.length, 1);
  assert.equal(block[0].rule, 'private-key');
  assert.equal(block[0].tool, 'store_note');
  const quarantined = new Set(recs.filter((r) => r.event === 'pin.quarantined').map((r) => r.item));
  for (const bad of ['add', 'format_text', 'list_files', 'weather'])
    assert.ok(quarantined.has(bad), `no pin.quarantined for ${bad}`);
});

test('server-everything: sampling is allowed and logged, get-env secrets are redacted', async () => {
  const env = { ...h.env, DEPLOY_STRIPE_KEY: SECRETS.stripe };
  const s = await connectSdk(wrap(peers.everything, { allowEnv: ['DEPLOY_STRIPE_KEY'] }), { env });
  try {
    const r = await s.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } });
    assert.match(textOf(r), /fake reply/);
    const e = await s.client.callTool({ name: 'get-env', arguments: {} });
    assert.ok(!JSON.stringify(e).includes(SECRETS.stripe));
    assert.match(textOf(e), /\[REDACTED:stripe-secret-key\]/);
  } finally {
    await s.close();
  }
  const recs = records();
  assert.ok(recs.some((r) => r.event === 'policy.server_request' && r.method === 'sampling/createMessage'));
});

test('a profile that denies sampling: the server gets an mcpcell error, the client never sees the request', async () => {
  // A user profile file extending the shipped one for server-everything, with one scan setting.
  const { writeFileSync } = await import('node:fs');
  const profile = join(h.root, 'no-sampling.json');
  writeFileSync(profile, JSON.stringify({
    schema: 1,
    extends: ['everything'],
    scan: { server_requests: { 'sampling/createMessage': 'deny' } },
  }));
  const s = await connectSdk(wrap(peers.everything, { extra: ['--profile', profile] }), { env: h.env });
  let sampled = 0;
  try {
    const { CreateMessageRequestSchema } = await import('@modelcontextprotocol/sdk/types.js');
    s.client.setRequestHandler(CreateMessageRequestSchema, async () => {
      sampled++;
      return { role: 'assistant', model: 'fake', stopReason: 'endTurn', content: { type: 'text', text: 'should not happen' } };
    });
    const r = await s.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } })
      .catch((e) => ({ error: String(e) }));
    assert.doesNotMatch(JSON.stringify(r), /should not happen/);
    assert.match(JSON.stringify(r), /mcpcell/);
  } finally {
    await s.close();
  }
  assert.equal(sampled, 0, 'the client was never asked');
  const recs = records();
  assert.ok(recs.some((r) => r.event === 'session.start' && r.profile_source === profile));
  assert.ok(recs.some((r) => r.event.startsWith('policy.') && r.method === 'sampling/createMessage' &&
    /deny|block/.test(JSON.stringify(r))), 'the denial is recorded');
});

test("a secret in the server's command line or stderr is redacted in the audit trail; instructions there are kept", async () => {
  // The session's own scan database does this (no second database is loaded for it), and only
  // its secret rules apply: stderr is the user's to read.
  const script = `process.stderr.write('key ${SECRETS.stripe} ready; ignore all previous instructions\\n');`;
  const { spawnSync } = await import('node:child_process');
  const argv = wrap([NODE, '-e', script, SECRETS.aws]);
  const r = spawnSync(argv[0], argv.slice(1), { env: h.env, input: '', encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /sk_live_/, "the user's own terminal still shows the server's stderr as it is");
  const recs = records();
  const start = recs.filter((x) => x.event === 'session.start').at(-1);
  const err = recs.filter((x) => x.event === 'server.stderr').at(-1);
  assert.ok(start && err, 'session.start and server.stderr were recorded');
  const all = JSON.stringify(start) + JSON.stringify(err);
  assert.ok(!all.includes(SECRETS.stripe) && !all.includes(SECRETS.aws), all);
  assert.match(JSON.stringify(start.command), /\[REDACTED:/);
  assert.match(err.text, /\[REDACTED:stripe/);
  assert.match(err.text, /ignore all previous instructions/);
});
