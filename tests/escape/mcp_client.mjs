// A tiny MCP client for the escape suite's positive side: runs a scripted sequence of tool calls
// against a real server (through mcpcell) and prints one JSON object with the tool names and each
// call's result, so the suite can compare a sandboxed run with an unsandboxed one.
//   node mcp_client.mjs SCRIPT_JSON -- COMMAND [ARG...]
// SCRIPT_JSON: [{"tool": name, "arguments": {...}}, ...]. Exit 0 when every step got an answer.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const sep = process.argv.indexOf('--');
const steps = JSON.parse(process.argv[2]);
const [command, ...args] = process.argv.slice(sep + 1);
const client = new Client({ name: 'escape-suite', version: '0' }, { capabilities: {} });
const transport = new StdioClientTransport({ command, args, env: process.env, stderr: 'pipe' });
let stderr = '';
transport.stderr?.on('data', d => { stderr += d; });
const out = { tools: [], calls: [] };
try {
  await client.connect(transport);
  out.tools = (await client.listTools()).tools.map(t => t.name).sort();
  for (const s of steps) {
    const r = await client.callTool({ name: s.tool, arguments: s.arguments });
    out.calls.push({ tool: s.tool, isError: !!r.isError, content: r.content, structured: r.structuredContent ?? null });
  }
} catch (e) {
  out.error = String(e?.message ?? e);
  out.stderr = stderr.slice(-2000);
}
await client.close().catch(() => {});
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(out.error ? 1 : 0);
