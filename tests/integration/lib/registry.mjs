// A stand-in package registry on the host's 127.0.0.1. The sandbox reaches it as
// registry.example.test through the test resolver ($XDG_CONFIG_HOME/mcpcell/test-hosts), the way a
// server reaches a real registry through mcpcell's resolver and egress proxy.
import { createServer } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const REGISTRY_HOST = 'registry.example.test';

// Serves `handler` and points REGISTRY_HOST at it for `home`'s mcpcell; resolves { server, port }.
export async function standInRegistry(home, handler) {
  const server = createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(home.configDir, 'test-hosts'), `${REGISTRY_HOST}=127.0.0.1\n`, { mode: 0o600 });
  return { server, port: server.address().port };
}
