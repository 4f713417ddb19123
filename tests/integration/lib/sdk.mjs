// A small client built on the official TypeScript SDK (reference/protocol.md B5): it declares
// sampling, elicitation and roots, answers the server's requests with fixed data, and counts
// notifications, so tests can compare what a real client sees directly and through mcpcell.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema,
  ToolListChangedNotificationSchema, LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

export const FAKE_REPLY = 'fake reply from the test client';
export const ROOTS = [{ uri: 'file:///tmp/mcpcell-test-root', name: 'test-root' }];

// Connects to argv ([cmd, ...args]) with `env`; returns { client, seen, stderr(), close() }.
// `seen` counts what arrived: listChanged, sampling, roots, elicitation, log messages.
export async function connectSdk(argv, { env, cwd } = {}) {
  const seen = { listChanged: 0, sampling: 0, roots: 0, elicitation: 0, logs: [] };
  const client = new Client({ name: 'mcpcell-sdk-test', version: '0' }, {
    capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } },
  });
  client.setRequestHandler(CreateMessageRequestSchema, async () => {
    seen.sampling++;
    return { role: 'assistant', model: 'fake', stopReason: 'endTurn', content: { type: 'text', text: FAKE_REPLY } };
  });
  client.setRequestHandler(ElicitRequestSchema, async () => { seen.elicitation++; return { action: 'decline' }; });
  client.setRequestHandler(ListRootsRequestSchema, async () => { seen.roots++; return { roots: ROOTS }; });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => { seen.listChanged++; });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => { seen.logs.push(n.params); });
  const transport = new StdioClientTransport({ command: argv[0], args: argv.slice(1), env, cwd, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (c) => { stderr += c; });
  await client.connect(transport);
  return { client, seen, transport, stderr: () => stderr, close: () => client.close() };
}

// Polls `cond()` every 20 ms until true or `timeoutMs` passes; returns the final value.
export async function eventually(cond, timeoutMs = 5000) {
  const t0 = Date.now();
  while (!cond() && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 20));
  return cond();
}
