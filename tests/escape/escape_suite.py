#!/usr/bin/python3
"""The escape suite: real attacks run inside mcpcell's sandbox, each expected to fail.

Problem. A sandbox is only as good as the attacks it was tried against, and an attack that cannot
succeed proves nothing. So every case here is a concrete attempt (a probe started through mcpcell
exactly as an editor starts a server) against a concrete target that exists on the host: canary
secrets planted in a throwaway HOME, listeners on the host's loopback, an abstract socket, stand-ins
for docker.sock and ssh-agent, a host process to signal, a setuid-root binary, secrets in mcpcell's
own environment. Run with --no-sandbox the same cases must mostly ESCAPE, which shows each probe can
fail (tests/integration/escape_canfail.test.sh does that).

Verdicts come from the host side wherever it can see the truth (a file written or replaced, a
listener reached, the helper process killed, processes left behind after mcpcell died); the probe's
own report decides the rest (a canary token read, a syscall not refused). A refused syscall must
also show up as a `sandbox.denied` record in mcpcell's audit log. Every case runs as root and as an
unprivileged user (`mcpcell-test`, created if missing) when the suite runs as root.

Usage: escape_suite.py --mcpcell build/mcpcell --probes build/tests/escape [--no-sandbox]
       [--only REGEX] [--users root,mcpcell-test] [--json FILE] [--keep]
Exit status: 0 when every case passed (with --no-sandbox: when every case could fail), else 1.
"""
import argparse
import fcntl
import json
import os
import pwd
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = shutil.which('node', path='/usr/bin:/usr/local/bin') or '/usr/bin/node'
PYTHON = '/usr/bin/python3'
UNPRIV = 'mcpcell-test'
SPEC_TEARDOWN_S = 1.5  # SPEC: every sandboxed process gone within 1.5 s

# Credential stores and other secrets planted in the throwaway HOME: (relative path, content).
SECRETS = {
    'ssh': ('.ssh/id_ed25519', '-----BEGIN OPENSSH PRIVATE KEY-----\n{c}\n-----END OPENSSH PRIVATE KEY-----\n'),
    'aws': ('.aws/credentials', '[default]\naws_access_key_id = {c}\naws_secret_access_key = {c}\n'),
    'kube': ('.kube/config', 'apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: {c}\n'),
    'gcloud': ('.config/gcloud/application_default_credentials.json', '{{"refresh_token": "{c}"}}\n'),
    'gnupg': ('.gnupg/private-keys-v1.d/escape.key', '(private-key (ecc (d {c})))\n'),
    'netrc': ('.netrc', 'machine example.com login u password {c}\n'),
    'git-credentials': ('.git-credentials', 'https://u:{c}@example.com\n'),
    'docker': ('.docker/config.json', '{{"auths": {{"example.com": {{"auth": "{c}"}}}}}}\n'),
    'dotenv-home': ('.env', 'API_KEY={c}\n'),
    'dotenv-sibling': ('other-project/.env', 'API_KEY={c}\n'),
    'cursor-mcp': ('.cursor/mcp.json', '{{"mcpServers": {{"x": {{"env": {{"TOKEN": "{c}"}}}}}}}}\n'),
    'claude-json': ('.claude.json', '{{"oauthAccount": "{c}", "mcpServers": {{}}}}\n'),
    'mcpcell-config': ('.config/mcpcell/escape-notes.txt', 'notes {c}\n'),
}
CREDENTIAL_STORES = ['ssh', 'aws', 'kube', 'gcloud', 'gnupg', 'netrc', 'git-credentials', 'docker']

# Persistence targets: (relative path, exists before the attack, severity). 'extra' = beyond the
# letter of issue 3 (reported, but only --strict fails on them).
WRITES = {
    'bashrc': ('.bashrc', True, 'issue'),
    'profile': ('.profile', True, 'issue'),
    'bash_profile': ('.bash_profile', False, 'issue'),
    'zshrc': ('.zshrc', False, 'issue'),
    'systemd-unit': ('.config/systemd/user/escape.service', False, 'issue'),
    'autostart': ('.config/autostart/escape.desktop', False, 'issue'),
    'npmrc': ('.npmrc', True, 'issue'),
    'pth': ('.local/lib/python3.11/site-packages/escape.pth', False, 'issue'),
    'git-hook-new': ('project/.git/hooks/pre-commit', False, 'issue'),
    'git-hook-existing': ('project/.git/hooks/post-checkout', True, 'issue'),
    'git-config': ('project/.git/config', True, 'issue'),
    # What editors, agents and direnv load or run by themselves from a project the user opens:
    # mcpcell keeps these read-only at the root of a writable grant (placeholders for missing ones).
    'project-mcp-json': ('project/.mcp.json', False, 'issue'),
    # A new .envrc is left creatable (no placeholder: direnv loads none it was not allowed to, and
    # an empty one would print "blocked" at every cd); an existing one is kept read-only.
    'project-envrc': ('project/.envrc', False, 'extra'),
    'project-vscode-tasks': ('project/.vscode/tasks.json', False, 'issue'),
    'project-vscode-settings': ('project/.vscode/settings.json', True, 'issue'),
    'project-cursor-mcp': ('project/.cursor/mcp.json', False, 'issue'),
    'project-claude-settings': ('project/.claude/settings.json', False, 'issue'),
    'state-audit': ('.local/state/mcpcell/audit.jsonl', True, 'issue'),
    'state-new': ('.local/state/mcpcell/escape-planted', False, 'issue'),
    'config-profile': ('.config/mcpcell/profiles/escape.json', False, 'issue'),
    'config-existing': ('.config/mcpcell/escape-notes.txt', True, 'issue'),
    'cursor-mcp': ('.cursor/mcp.json', True, 'issue'),
    'claude-json': ('.claude.json', True, 'issue'),
    'claude-desktop': ('.config/Claude/claude_desktop_config.json', False, 'issue'),
    'vscode-user-mcp': ('.config/Code/User/mcp.json', False, 'issue'),
}
# The placeholders mcpcell may create for a missing guarded entry (sandbox/plan.cc kGuarded): an
# empty file, or for .mcp.json a list of no servers. Their appearance is not an escape.
PLACEHOLDERS = {'project/.mcp.json': (b'', b'{"mcpServers": {}}\n')}
# What a writable directory looks like once mcpcell has run a server on it (sandbox/plan.cc).
PLACEHOLDER_FILES = {'.mcp.json': '{"mcpServers": {}}\n'}
PLACEHOLDER_DIRS = ['.vscode', '.cursor', '.claude', '.gemini']


def make_placeholders(d):
    for name, content in PLACEHOLDER_FILES.items():
        with open(os.path.join(d, name), 'w') as f:
            f.write(content)
    for name in PLACEHOLDER_DIRS:
        os.makedirs(os.path.join(d, name), exist_ok=True)
ENV_SECRETS = ['AWS_SECRET_ACCESS_KEY', 'OPENAI_API_KEY', 'GITHUB_TOKEN', 'ANTHROPIC_API_KEY',
               'NPM_TOKEN', 'SSH_AUTH_SOCK', 'DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR', 'DISPLAY']


def errno_name(e):
    import errno
    return errno.errorcode.get(e, str(e))


def log(*a):
    print(*a, flush=True)


# ---- the host side: listeners that record who reached them ---------------------------------------

class Listeners:
    """TCP on 127.0.0.1 and 0.0.0.0, UDP echo on 127.0.0.1, an abstract unix socket, and path
    sockets standing in for docker.sock and ssh-agent. Records every line that arrives."""

    def __init__(self, rid):
        self.received = []
        self.lock = threading.Lock()
        self.socks = []
        self.tcp_lo = self._tcp('127.0.0.1')
        self.tcp_any = self._tcp('0.0.0.0')
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(('127.0.0.1', 0))
        self.udp_port = self.udp.getsockname()[1]
        self.abstract = f'mcpcell-escape-{rid}'
        self.socks.append(self._unix('\0' + self.abstract))
        self.paths = {}
        threading.Thread(target=self._loop, daemon=True).start()

    def _tcp(self, host):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, 0))
        s.listen(64)
        self.socks.append(s)
        return s.getsockname()[1]

    def _unix(self, addr):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(addr)
        s.listen(64)
        return s

    def add_path(self, key, path, owner=None):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        s = self._unix(path)
        os.chmod(path, 0o666)
        if owner:
            os.chown(path, owner.pw_uid, owner.pw_gid)
        self.paths[key] = path
        self.socks.append(s)

    def _loop(self):
        conns = []
        while True:
            rl, _, _ = select.select(self.socks + [self.udp] + conns, [], [], 0.2)
            for s in rl:
                if s is self.udp:
                    data, peer = s.recvfrom(1500)
                    self._got(data)
                    s.sendto(b'echo', peer)
                elif s in self.socks:
                    try:
                        c, _ = s.accept()
                    except (BlockingIOError, OSError):
                        continue
                    # A handshake alone is an escape: record it before any token arrives.
                    self._got(b'(connection)')
                    conns.append(c)
                else:
                    try:
                        data = s.recv(4096)
                    except OSError:
                        data = b''
                    if data:
                        self._got(data)
                    else:
                        conns.remove(s)
                        s.close()

    def _got(self, data):
        with self.lock:
            self.received.append(data.decode('latin1'))

    def mark(self):
        with self.lock:
            return len(self.received)

    def since(self, mark):
        with self.lock:
            return self.received[mark:]


# ---- one user's world: throwaway HOME with planted secrets ---------------------------------------

class World:
    def __init__(self, suite, pw):
        self.suite, self.pw, self.user = suite, pw, pw.pw_name
        self.base = os.path.join(suite.base, self.user)
        self.home = os.path.join(self.base, 'home')
        self.state = os.path.join(self.home, '.local/state')
        self.config = os.path.join(self.home, '.config')
        self.project = os.path.join(self.home, 'project')
        self.audit_path = os.path.join(self.state, 'mcpcell/audit.jsonl')
        self.marker = f'ESCAPE-HOSTPID-{suite.rid}-{self.user}'
        self.canaries = {}
        self.seed()

    def canary(self, name):
        return f'ESCAPE-CANARY-{self.suite.rid}-{self.user}-{name}'

    def path(self, rel):
        return os.path.join(self.home, rel)

    def seed(self):
        os.makedirs(self.home, mode=0o750)
        for name, (rel, content) in SECRETS.items():
            self.put(rel, content.format(c=self.canary(name)))
        os.chmod(self.path('.ssh'), 0o700)
        os.chmod(self.path('.gnupg'), 0o700)
        self.put('.bashrc', '# bashrc\n')
        self.put('.profile', '# profile\n')
        self.put('.npmrc', '; npmrc\n')
        self.put('project/README.md', 'a granted project\n')
        self.put('project/.git/HEAD', 'ref: refs/heads/main\n')
        self.put('project/.git/config', '[core]\n\trepositoryformatversion = 0\n')
        self.put('project/.git/hooks/post-checkout', '#!/bin/sh\nexit 0\n', mode=0o755)
        self.put('project/.vscode/settings.json', '{}\n')
        os.makedirs(self.path('project/scratch'))
        os.makedirs(os.path.join(self.state, 'mcpcell'), mode=0o700)
        with open(self.audit_path, 'a'):
            pass
        os.chmod(self.audit_path, 0o600)
        os.chmod(os.path.join(self.config, 'mcpcell'), 0o700)
        # ssh-agent's socket lives in the host's /tmp, like the real one.
        agent_dir = f'/tmp/ssh-escape-{self.suite.rid}-{self.user}'
        self.suite.listeners.add_path(f'ssh-agent-{self.user}', agent_dir + '/agent.sock', self.pw)
        self.agent_sock = agent_dir + '/agent.sock'
        self.chown_tree(self.base)
        os.chown(agent_dir, self.pw.pw_uid, self.pw.pw_gid)
        os.chmod(agent_dir, 0o700)
        self.snapshot = self.take_snapshot()
        self.helper = None
        self.start_helper()

    def put(self, rel, content, mode=0o600):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'w') as f:
            f.write(content)
        os.chmod(p, mode)

    def chown_tree(self, top):
        for root, dirs, files in os.walk(top):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                os.lchown(n, self.pw.pw_uid, self.pw.pw_gid)

    def take_snapshot(self):
        snap = {}
        for rel, _, _ in WRITES.values():
            p = self.path(rel)
            try:
                with open(p, 'rb') as f:
                    snap[rel] = f.read()
            except OSError:
                snap[rel] = None
        return snap

    def restore(self, rel):
        p = self.path(rel)
        before = self.snapshot[rel]
        for junk in (p, p + '.escape-tmp'):
            if os.path.lexists(junk) and (before is None or junk != p):
                os.unlink(junk)
        if before is not None and rel != '.local/state/mcpcell/audit.jsonl':
            self.put(rel, before.decode('latin1'), mode=0o755 if 'hooks' in rel else 0o600)
            os.lchown(p, self.pw.pw_uid, self.pw.pw_gid)

    def prefix(self):
        """How to run a command as this user."""
        if self.pw.pw_uid == os.getuid():
            return []
        return ['setpriv', f'--reuid={self.pw.pw_uid}', f'--regid={self.pw.pw_gid}', '--clear-groups', '--']

    def env(self):
        uid = self.pw.pw_uid
        e = {
            'HOME': self.home, 'XDG_STATE_HOME': self.state, 'XDG_CONFIG_HOME': self.config,
            'PATH': '/usr/local/bin:/usr/bin:/bin', 'LANG': 'C.UTF-8', 'USER': self.user,
            'LOGNAME': self.user, 'SSH_AUTH_SOCK': self.agent_sock,
            'DBUS_SESSION_BUS_ADDRESS': f'unix:path=/run/user/{uid}/bus',
            'XDG_RUNTIME_DIR': f'/run/user/{uid}', 'DISPLAY': ':0',
        }
        for n in ['AWS_SECRET_ACCESS_KEY', 'OPENAI_API_KEY', 'GITHUB_TOKEN', 'ANTHROPIC_API_KEY', 'NPM_TOKEN']:
            e[n] = self.canary('env') + '-' + n
        return e

    def start_helper(self):
        if self.helper and self.helper.poll() is None:
            return
        self.helper = subprocess.Popen(
            self.prefix() + [PYTHON, '-c', 'import time\nwhile True: time.sleep(1000)', self.marker],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, cwd=self.home)

    def helper_alive(self):
        return self.helper.poll() is None

    def audit_offset(self):
        try:
            return os.path.getsize(self.audit_path)
        except OSError:
            return 0

    def audit_since(self, offset):
        try:
            with open(self.audit_path, 'rb') as f:
                if os.path.getsize(self.audit_path) < offset:
                    offset = 0
                f.seek(offset)
                data = f.read()
        except OSError:
            return []
        out = []
        for line in data.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out


# ---- running one probe through mcpcell -----------------------------------------------------------

class Run:
    rc = None
    result = None
    stderr = ''
    audit = ()
    ready_at = None
    pid = None
    session_start = None


def find_marked(marker):
    """Host pids whose command line carries marker."""
    out = []
    for p in os.listdir('/proc'):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open(f'/proc/{p}/cmdline', 'rb') as f:
                cmd = f.read()
            with open(f'/proc/{p}/stat') as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmd and state != 'Z':
            out.append(int(p))
    return out


class Suite:
    def __init__(self, args):
        self.args = args
        self.mcpcell = os.path.abspath(args.mcpcell)
        self.probes = os.path.abspath(args.probes)
        self.rid = secrets.token_hex(4)
        root = os.environ.get('ESCAPE_TMPDIR', '/var/tmp')
        self.base = tempfile.mkdtemp(prefix='mcpcell-escape-', dir=root)
        os.chmod(self.base, 0o755)
        self.listeners = Listeners(self.rid)
        if os.getuid() == 0:
            self.listeners.add_path('docker', f'/run/mcpcell-escape-{self.rid}/docker.sock')
        else:
            self.listeners.add_path('docker', os.path.join(self.base, 'run/docker.sock'))
        self.suid = None
        if os.getuid() == 0:
            d = os.path.join(self.base, 'suid')
            os.makedirs(d)
            os.chmod(d, 0o755)
            self.suid = os.path.join(d, 'escape_probe_suid')
            shutil.copy(os.path.join(self.probes, 'escape_probe'), self.suid)
            os.chown(self.suid, 0, 0)
            os.chmod(self.suid, 0o4755)
        self.host_ip = self.primary_ip()
        self.nameserver = self.resolv_nameserver()
        self.internet = self.resolve('registry.npmjs.org')
        self.host_init_closed = None
        try:
            os.close(os.open('/proc/1/mem', os.O_RDONLY))
        except OSError as e:
            self.host_init_closed = (f'the host\'s pid 1 refuses /proc/1/mem and /proc/1/root even to '
                                     f'{pwd.getpwuid(os.getuid()).pw_name} ({errno_name(e.errno)}), so '
                                     f'only the sandbox\'s own init can be tried')

    @staticmethod
    def primary_ip():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect(('192.0.2.1', 9))  # no packet is sent; picks the outgoing interface
            return s.getsockname()[0]
        except OSError:
            return None
        finally:
            s.close()

    @staticmethod
    def resolv_nameserver():
        try:
            for line in open('/etc/resolv.conf'):
                if line.startswith('nameserver') and '.' in line:
                    return line.split()[1]
        except OSError:
            pass
        return None

    @staticmethod
    def resolve(name):
        try:
            return socket.getaddrinfo(name, 443, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
        except OSError:
            return None

    def probe_cmd(self, kind, args):
        if kind == 'c':
            return [os.path.join(self.probes, 'escape_probe')] + args
        if kind == 'node':
            return [NODE, os.path.join(self.probes, 'probe.mjs')] + args
        return [PYTHON, os.path.join(self.probes, 'probe.py')] + args

    def mcpcell_cmd(self, w, flags, cmd, name='escape-test'):
        sandbox = ['--no-sandbox'] if self.args.no_sandbox else []
        return (w.prefix() + [self.mcpcell, '--quiet', '--name', name, *sandbox,
                              '--allow-read', self.probes, '--allow-write', w.project, *flags, '--', *cmd])

    def run(self, w, cmd, flags=(), timeout=30, pass_fds=(), on_ready=None, tty=False,
            name='escape-test', control=None):
        """Starts mcpcell with the probe, waits for its result line (or its exit)."""
        r = Run()
        offset = w.audit_offset()
        argv = self.mcpcell_cmd(w, list(flags), cmd, name)
        master = None
        if tty:
            master, slave = os.openpty()
            err = slave
        else:
            err = subprocess.PIPE
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                             env=w.env(), pass_fds=pass_fds, start_new_session=True, cwd=w.project)
        r.pid = p.pid
        if tty:
            os.close(slave)
        done, ready = threading.Event(), threading.Event()
        err_chunks = []

        def read_out():
            for raw in p.stdout:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                if msg.get('method') == 'probe/ready':
                    r.ready_at = time.monotonic()
                    ready.set()
                elif msg.get('method') == 'probe/result':
                    r.result = msg.get('params')
                    done.set()
            done.set()

        def read_err():
            src = master if tty else p.stderr.fileno()
            while True:
                try:
                    chunk = os.read(src, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                err_chunks.append(chunk)

        threading.Thread(target=read_out, daemon=True).start()
        threading.Thread(target=read_err, daemon=True).start()
        if control:
            control(p, ready, r)
        else:
            if on_ready:
                ready.wait(min(timeout, 5))
                on_ready()
            done.wait(timeout)
        try:
            p.stdin.close()
        except OSError:
            pass
        try:
            r.rc = p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            r.rc = p.wait()
            err_chunks.append(b'\n[suite] mcpcell did not exit within 10 s after its client went away\n')
        time.sleep(0.05)
        if master is not None:
            os.close(master)
        r.stderr = b''.join(err_chunks).decode('utf-8', 'replace')
        r.audit = w.audit_since(offset)
        for rec in r.audit:
            if rec.get('event') == 'session.start':
                r.session_start = rec
            # Fallback: the probe also wrote its result on stderr, which mcpcell logs.
            if r.result is None and rec.get('event') == 'server.stderr' and 'probe/result' in str(rec.get('text')):
                try:
                    r.result = json.loads(rec['text'])['params']
                except (ValueError, KeyError, TypeError):
                    pass
        return r


# ---- verdicts ------------------------------------------------------------------------------------

def denied_names(records):
    names = []
    for rec in records:
        if rec.get('event') != 'sandbox.denied':
            continue
        stack = [rec]
        while stack:
            v = stack.pop()
            if isinstance(v, dict):
                for k, x in v.items():
                    if k == 'syscall' and isinstance(x, str):
                        names.append(x)
                    else:
                        stack.append(x)
            elif isinstance(v, list):
                stack.extend(v)
        names.append('(record)')  # counts for 'any', matches no syscall name
    return names


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1][:300] if lines else '(nothing on stderr)'


class Case:
    def __init__(self, cid, kind, args, *, flags=(), expect='blocked', host=None, audit=None,
                 refusal_ok=False, timeout=30, severity='issue', exempt=None, note=None, setup=None,
                 cleanup=None, on_ready=None, pass_fds=None, tty=False, custom=None, name='escape-test',
                 only_root=False):
        self.id, self.kind, self.args, self.flags = cid, kind, args, flags
        self.expect, self.host, self.audit, self.refusal_ok = expect, host, audit, refusal_ok
        self.timeout, self.severity, self.exempt, self.note = timeout, severity, exempt, note
        self.setup, self.cleanup, self.on_ready, self.pass_fds = setup, cleanup, on_ready, pass_fds
        self.tty, self.custom, self.name, self.only_root = tty, custom, name, only_root


def judge(suite, w, case, r, host_verdict):
    """Returns (status, detail) for one run: PASS, FAIL, ERROR."""
    res = r.result or {}
    detail = res.get('detail', '')
    if r.rc == 125 and not suite.args.no_sandbox:
        if case.refusal_ok:
            return 'PASS', 'mcpcell refused to start: ' + last_line(r.stderr)
        return 'ERROR', 'mcpcell could not start the server (125): ' + last_line(r.stderr)
    if isinstance(case.expect, tuple):  # an exit status
        want = case.expect[1]
        if r.rc == want:
            return 'PASS', f'exit status {r.rc}'
        return 'FAIL', f'exit status {r.rc}, want {want}'
    if host_verdict is not None and host_verdict[0]:
        return 'FAIL', 'host side: ' + host_verdict[1] + (f' (probe: {detail})' if detail else '')
    outcome = res.get('outcome')
    if outcome is None:
        outcome = {0: 'blocked', 1: 'escaped'}.get(r.rc)
        if outcome is None:
            if case.expect == 'contained' and r.rc in (128 + 9, 137):
                return 'PASS', 'the probe was killed (SIGKILL) before reaching its cap'
            return 'ERROR', f'no result from the probe (mcpcell exit {r.rc}): {last_line(r.stderr)}'
        detail = detail or f'(from exit status {r.rc})'
    if outcome == 'error':
        return 'ERROR', 'probe error: ' + detail
    if case.expect == 'works':
        if outcome == 'escaped':
            return 'PASS', detail
        return 'FAIL', 'a call the sandbox must allow failed: ' + detail
    if outcome == 'escaped':
        if host_verdict is not None:  # the host shows nothing changed: it hit a private copy
            return 'PASS', 'inside only, host untouched: ' + detail
        return 'FAIL', detail
    if case.audit:
        names = denied_names(r.audit)
        if case.audit == 'any':
            if not names:
                return 'FAIL', detail + '; but no sandbox.denied record in the audit log'
        else:
            missing = [n for n in case.audit if n not in names]
            if missing:
                return 'FAIL', f'{detail}; but no sandbox.denied record for {",".join(missing)} (got {names or "none"})'
        detail += f' [audit: sandbox.denied {",".join(sorted(set(names) - {"(record)"}))}]'
    return 'PASS', detail


# ---- host-side checks ----------------------------------------------------------------------------

def write_check(rel):
    def check(w, r):
        p = w.path(rel)
        before = w.snapshot[rel]
        # The payload line itself: the bare token also shows up legitimately in mcpcell's audit log
        # (session.start records the probe's command line).
        canary = b'# ' + w.canary('write-' + rel).encode()
        try:
            with open(p, 'rb') as f:
                after = f.read()
        except OSError:
            after = None
        if after is not None and canary in after:
            return True, f'{rel} now holds the attacker\'s payload'
        if rel.endswith('audit.jsonl'):
            return False, ''
        if before is None and after is not None and after not in PLACEHOLDERS.get(rel, ()):
            return True, f'{rel} was created'
        if before is not None and after != before:
            return True, f'{rel} was {"removed" if after is None else "changed"}'
        return False, ''
    return check


def listener_check(suite, token):
    mark = {}

    def setup(w):
        mark['m'] = suite.listeners.mark()

    def check(w, r):
        got = suite.listeners.since(mark['m'])
        hits = [g for g in got if token in g or g == '(connection)']
        if hits:
            return True, 'the host listener was reached' + (' (token received)' if any(token in g for g in hits) else '')
        return False, ''
    return setup, check


# ---- the cases -----------------------------------------------------------------------------------

def build_cases(suite, w):
    C = []
    home, project = w.home, w.project
    ssh = w.path('.ssh/id_ed25519')

    # 1. Reading secrets with the default grants (probe dir read-only, project read-write).
    for name in SECRETS:
        rel = SECRETS[name][0]
        C.append(Case(f'read.{name}', 'c', ['read', w.path(rel), w.canary(name)]))
    for kind in ('node', 'py'):
        for name in ('ssh', 'aws', 'dotenv-home', 'claude-json'):
            C.append(Case(f'read.{name}.{kind}', kind, ['read', w.path(SECRETS[name][0]), w.canary(name)]))
    C.append(Case('read.etc-shadow', 'c', ['read', '/etc/shadow']))
    C.append(Case('list.ssh-dir', 'c', ['list', w.path('.ssh'), 'id_ed25519']))
    C.append(Case('list.gnupg-dir', 'c', ['list', w.path('.gnupg'), 'private-keys-v1.d']))
    C.append(Case('read.dotdot', 'c', ['read', project + '/../.ssh/id_ed25519', w.canary('ssh')]))
    C.append(Case('read.dotdot-deep', 'c', ['read', project + '/scratch/../../.aws/credentials', w.canary('aws')]))
    C.append(Case('read.symlink-planted', 'c', ['symlink-read', ssh, project + '/scratch/innocent', w.canary('ssh')]))
    C.append(Case('read.proc1-root', 'c', ['read', '/proc/1/root' + ssh, w.canary('ssh')],
                  exempt=suite.host_init_closed))
    C.append(Case('read.proc-helper-root', 'c', lambda: ['read', f'/proc/{w.helper.pid}/root' + ssh, w.canary('ssh')]))
    C.append(Case('read.proc-helper-cwd', 'c', lambda: ['read', f'/proc/{w.helper.pid}/cwd/.ssh/id_ed25519', w.canary('ssh')]))

    def late_setup(w):
        for rel in ('.ssh/late_key', '.hidden-late/secret'):
            p = w.path(rel)
            if os.path.exists(p):
                os.unlink(p)
        shutil.rmtree(w.path('.hidden-late'), ignore_errors=True)

    def late_create(w=w):
        os.makedirs(w.path('.hidden-late'), exist_ok=True)
        for rel in ('.ssh/late_key', '.hidden-late/secret'):
            w.put(rel, w.canary('late') + '\n')
        w.chown_tree(w.path('.hidden-late'))
        os.lchown(w.path('.ssh/late_key'), w.pw.pw_uid, w.pw.pw_gid)

    C.append(Case('read.created-after-start', 'c',
                  ['read-later', w.canary('late'), w.path('.ssh/late_key'), w.path('.hidden-late/secret')],
                  setup=late_setup, on_ready=late_create, cleanup=late_setup))

    # Inherited fds: mcpcell started holding a secret file, the ~/.ssh directory and a socket
    # connected to the docker stand-in open (without close-on-exec).
    def fds_builder(w):
        fds = [os.open(ssh, os.O_RDONLY), os.open(w.path('.ssh'), os.O_RDONLY | os.O_DIRECTORY)]
        s = socket.socket(socket.AF_UNIX)
        s.connect(suite.listeners.paths['docker'])
        fds.append(os.dup(s.fileno()))
        s.close()
        for fd in fds:
            os.set_inheritable(fd, True)
        return fds
    C.append(Case('read.inherited-fds', 'c', ['fds', w.canary('ssh'), 'id_ed25519'], pass_fds=fds_builder,
                  exempt='mcpcell closes inherited fds even without a sandbox (the probe alone, run from a '
                         'shell, does report leaked fds)'))

    # Another server's private home.
    C.append(Case('read.other-server-home', 'c', [], custom=other_home_case))

    # 2. Grants that try to open what no profile may (SPEC: state/config dirs, editors' MCP configs,
    # credential stores). Refusing to start (125) is a pass.
    for name in CREDENTIAL_STORES + ['cursor-mcp', 'claude-json', 'mcpcell-config']:
        C.append(Case(f'grant-home.read.{name}', 'c', ['read', w.path(SECRETS[name][0]), w.canary(name)],
                      flags=['--allow-read', home], refusal_ok=True))
    C.append(Case('grant-home.read.audit-log', 'c', ['list', os.path.join(w.state, 'mcpcell'), 'audit.jsonl'],
                  flags=['--allow-read', home], refusal_ok=True))
    C.append(Case('grant.ssh-direct', 'c', ['read', ssh, w.canary('ssh')],
                  flags=['--allow-read', w.path('.ssh')], refusal_ok=True))
    C.append(Case('grant.ssh-dotdot', 'c', ['read', ssh, w.canary('ssh')],
                  flags=['--allow-read', project + '/../.ssh'], refusal_ok=True))
    C.append(Case('grant.ssh-file', 'c', ['read', ssh, w.canary('ssh')],
                  flags=['--allow-read', ssh], refusal_ok=True))

    def plant_link(w):
        link = os.path.join(w.project, 'scratch/docs')
        if not os.path.lexists(link):
            os.symlink(w.path('.ssh'), link)
            os.lchown(link, w.pw.pw_uid, w.pw.pw_gid)

    def unplant(w):
        link = os.path.join(w.project, 'scratch/docs')
        if os.path.lexists(link):
            os.unlink(link)
    C.append(Case('grant.planted-symlink-to-ssh', 'c',
                  ['read', project + '/scratch/docs/id_ed25519', w.canary('ssh')],
                  flags=['--allow-read', project + '/scratch/docs'], refusal_ok=True,
                  setup=plant_link, cleanup=unplant))
    C.append(Case('grant.state-dir', 'c', ['list', os.path.join(w.state, 'mcpcell'), 'audit.jsonl'],
                  flags=['--allow-read', os.path.join(w.state, 'mcpcell')], refusal_ok=True))
    C.append(Case('grant.config-dir', 'c', ['read', w.path(SECRETS['mcpcell-config'][0]), w.canary('mcpcell-config')],
                  flags=['--allow-read', os.path.join(w.config, 'mcpcell')], refusal_ok=True))
    C.append(Case('grant.cursor-dir', 'c', ['read', w.path('.cursor/mcp.json'), w.canary('cursor-mcp')],
                  flags=['--allow-write', w.path('.cursor')], refusal_ok=True))

    # 3. Environment secrets.
    for kind in ('c', 'node', 'py'):
        C.append(Case(f'env.secrets.{kind}', kind, ['env', w.canary('env'), *ENV_SECRETS]))

    # 4. Persistence: default grants, then with the whole HOME granted writable.
    for grant in ('default', 'grant-home'):
        for key, (rel, exists, severity) in WRITES.items():
            flags = ['--allow-write', home] if grant == 'grant-home' else []
            C.append(Case(f'{grant}.write.{key}', 'c', ['write', w.path(rel), w.canary('write-' + rel)],
                          flags=flags, host=write_check(rel), severity=severity,
                          refusal_ok=grant == 'grant-home', cleanup=lambda w, rel=rel: w.restore(rel)))
    for kind in ('node', 'py'):
        for key in ('bashrc', 'npmrc', 'git-hook-new'):
            rel = WRITES[key][0]
            C.append(Case(f'default.write.{key}.{kind}', kind, ['write', w.path(rel), w.canary('write-' + rel)],
                          host=write_check(rel), cleanup=lambda w, rel=rel: w.restore(rel)))
    # Move the repository's .git aside and build a fresh one whose hook runs at the next commit.
    def swap_check(w, r):
        old = w.project + '/.git.escape-old'
        if os.path.lexists(old):
            return True, '.git was moved aside' + (' and recreated' if os.path.exists(w.project + '/.git') else '')
        if not os.path.exists(w.project + '/.git/HEAD'):
            return True, '.git was emptied'
        return write_check('project/.git/hooks/pre-commit')(w, r)

    def swap_restore(w):
        old = w.project + '/.git.escape-old'
        if os.path.lexists(old):
            shutil.rmtree(w.project + '/.git', ignore_errors=True)
            os.rename(old, w.project + '/.git')
        w.restore('project/.git/hooks/pre-commit')
    C.append(Case('default.write.git-dir-swap', 'c',
                  ['swap-dir', project + '/.git', project + '/.git/hooks/pre-commit',
                   w.canary('write-project/.git/hooks/pre-commit')],
                  host=swap_check, cleanup=swap_restore))
    C.append(Case('write.mknod', 'c', ['mknod', project + '/scratch/null'],
                  cleanup=lambda w: os.path.lexists(w.project + '/scratch/null') and os.unlink(w.project + '/scratch/null')))

    # 5. Network.
    L = suite.listeners
    net = []
    for kind in ('c', 'node', 'py'):
        net.append((f'net.tcp-host-loopback.{kind}', kind, lambda t: ['connect-tcp', '127.0.0.1', str(L.tcp_lo), t]))
        if kind != 'node':  # node 20's net cannot address abstract sockets (libuv truncates at NUL)
            net.append((f'net.abstract-unix.{kind}', kind, lambda t: ['connect-abstract', L.abstract, t]))
        net.append((f'net.docker-sock.{kind}', kind, lambda t: ['connect-unix', L.paths['docker'], t]))
        net.append((f'net.ssh-agent.{kind}', kind, lambda t: ['connect-unix', w.agent_sock, t]))
    if suite.host_ip:
        net.append(('net.tcp-host-ip', 'c', lambda t: ['connect-tcp', suite.host_ip, str(L.tcp_any), t]))
    for kind in ('c', 'py', 'node'):
        net.append((f'net.udp-host-loopback.{kind}', kind, lambda t: ['udp', '127.0.0.1', str(L.udp_port), t]))
    for cid, kind, mk in net:
        token = f'TOKEN-{suite.rid}-{w.user}-{cid}'
        setup, check = listener_check(suite, token)
        C.append(Case(cid, kind, mk(token), setup=setup, host=check))
    if suite.internet:
        C.append(Case('net.tcp-internet', 'c', ['connect-tcp', suite.internet, '443', 'x']))
        C.append(Case('net.fetch-internet.node', 'node', ['fetch', 'https://registry.npmjs.org/']))
    if suite.nameserver:
        C.append(Case('net.dns-udp', 'c', ['dns', suite.nameserver, 'registry.npmjs.org']))
    C.append(Case('net.resolve.py', 'py', ['resolve', 'registry.npmjs.org']))
    for kind in ('c', 'node', 'py'):
        C.append(Case(f'net.only-lo.{kind}', kind, ['ifaces']))

    # 6. Processes and privilege.
    def helper_check(w, r):
        if not w.helper_alive():
            w.start_helper()
            return True, 'the host helper process was killed'
        return False, ''
    for kind in ('c', 'node', 'py'):
        C.append(Case(f'proc.kill-host.{kind}', kind, lambda: ['kill', str(w.helper.pid), '9'], host=helper_check))
        C.append(Case(f'proc.host-pids-invisible.{kind}', kind, ['pids', w.marker[::-1]]))
    C.append(Case('proc.ptrace-host', 'c', lambda: ['ptrace', str(w.helper.pid)]))
    C.append(Case('proc.signal-init', 'c', ['kill', '1', '0'],
                  note='signal 0 is the permission check; a real signal could hit the host init without a sandbox'))
    C.append(Case('proc.ptrace-init', 'c', ['ptrace-peek', '1'], audit=['ptrace']))
    C.append(Case('proc.init-mem', 'c', ['procmem', '1'], exempt=suite.host_init_closed))
    # The sandbox's init keeps its socket to mcpcell (it reports the server's exit status on it);
    # its descriptors are behind the same ptrace check as its memory (the directory listing is
    # not: as root the server owns it, and sees only numbers). pidfd_getfd is refused by seccomp.
    C.append(Case('proc.init-fds', 'c', ['read', '/proc/1/fdinfo/0'], exempt=suite.host_init_closed))
    C.append(Case('proc.ptrace-child', 'c', ['ptrace', 'child'], audit=['ptrace']))
    C.append(Case('proc.userns-unshare', 'c', ['userns', 'unshare'], audit=['unshare']))
    C.append(Case('proc.userns-clone', 'c', ['userns', 'clone'], audit=['clone']))
    C.append(Case('proc.userns-clone3', 'c', ['userns', 'clone3']))
    C.append(Case('proc.clone3-enosys', 'c', ['userns', 'clone3-plain']))
    C.append(Case('proc.userns-unshare.py', 'py', ['syscall', 'unshare'], audit=['unshare']))
    C.append(Case('proc.caps', 'c', ['caps']))
    C.append(Case('proc.no-new-privs', 'c', ['nnp']))
    if suite.suid:
        C.append(Case('proc.setuid-exec', 'c', ['setuid-exec', suite.suid], flags=['--allow-read', os.path.dirname(suite.suid)]))
        C.append(Case('proc.setuid-exec.node', 'node', ['setuid-exec', suite.suid], flags=['--allow-read', os.path.dirname(suite.suid)]))

    # 7. The syscall filter: each refused and logged.
    logged = {
        'io_uring_setup': ['io_uring_setup'], 'userfaultfd': ['userfaultfd'], 'bpf': ['bpf'],
        'perf_event_open': ['perf_event_open'], 'keyctl': ['keyctl'], 'add_key': ['add_key'],
        'request_key': ['request_key'], 'mount': ['mount'], 'umount2': ['umount2'],
        'pivot_root': ['pivot_root'], 'setns': ['setns'], 'init_module': ['init_module'],
        'finit_module': ['finit_module'], 'kexec_load': ['kexec_load'], 'swapon': ['swapon'],
        'acct': ['acct'], 'syslog': ['syslog'], 'reboot': ['reboot'], 'clock_settime': ['clock_settime'],
        'process_vm_readv': ['process_vm_readv'], 'pidfd_getfd': ['pidfd_getfd'],
        'personality': ['personality'], 'open_by_handle_at': ['open_by_handle_at'],
        'x32': 'any', 'int80-getpid': 'any', 'int80-socketcall': 'any', 'int80-socket': 'any',
    }
    native = suite.native_refusals
    for name, audit in logged.items():
        C.append(Case(f'syscall.{name}', 'c', ['syscall', name, project + '/scratch'], audit=audit,
                      note=native.get(name)))
    for fam in ('AF_ALG', 'AF_PACKET', 'AF_VSOCK', 'AF_KEY', 'NETLINK_AUDIT', 'NETLINK_KOBJECT_UEVENT',
                'NETLINK_SOCK_DIAG', 'NETLINK_GENERIC', 'NETLINK_NETFILTER'):
        C.append(Case(f'socket.{fam}', 'c', ['socket', fam], audit=['socket'], note=native.get('socket.' + fam)))
    C.append(Case('socket.raw-icmp', 'c', ['socket', 'AF_INET-raw']))
    for fam in ('AF_ALG', 'AF_PACKET', 'AF_VSOCK', 'NETLINK_KOBJECT_UEVENT'):
        C.append(Case(f'socket.{fam}.py', 'py', ['socket', fam], audit=['socket'], note=native.get('socket.' + fam)))
    C.append(Case('syscall.io_uring_setup.py', 'py', ['syscall', 'io_uring_setup'], audit=['io_uring_setup']))
    C.append(Case('syscall.userfaultfd.py', 'py', ['syscall', 'userfaultfd'], audit=['userfaultfd']))
    C.append(Case('syscall.keyctl.py', 'py', ['syscall', 'keyctl'], audit=['keyctl']))
    for which in ('tiocsti', 'tiocsti-high', 'tioclinux'):
        C.append(Case(f'tty.{which}', 'c', ['tty', which], audit=['ioctl'], tty=True))
    for fam in ('AF_UNIX', 'AF_INET', 'AF_INET6', 'NETLINK_ROUTE'):
        C.append(Case(f'allowed.socket.{fam}', 'c', ['socket', fam], expect='works',
                      exempt='a positive control: works with or without a sandbox'))
    for what in ('memfd_create', 'personality-query', 'clone'):
        C.append(Case(f'allowed.{what}', 'c', ['allowed', what], expect='works',
                      exempt='a positive control: works with or without a sandbox'))

    # 8. Limits.
    C.append(Case('limits.forkbomb', 'c', ['forkbomb', str(suite.args.forkbomb_cap)], timeout=120))
    C.append(Case('limits.memhog', 'c', ['memhog', str(suite.args.memhog_mib)], timeout=120, expect='contained'))

    # 9. Lifecycle.
    for how in ('SIGKILL', 'SIGTERM', 'stdin-close'):
        C.append(Case(f'life.teardown-{how}', 'c', [], custom=lambda s, w, c, how=how: teardown_case(s, w, c, how),
                      exempt='mcpcell escalates to killing the tree itself on stdin EOF' if how == 'stdin-close' else None))
    C.append(Case('life.zombies', 'c', ['zombies'],
                  exempt='without a sandbox mcpcell (a child subreaper) reaps orphans itself'))
    for args, want in ((['exit', '0'], 0), (['exit', '3'], 3), (['segv'], 139), (['raise', '15'], 143),
                       (['raise', '9'], 137)):
        C.append(Case(f'life.exit-status.{"-".join(args)}', 'c', args, expect=('exit', want),
                      exempt='exit statuses propagate with or without a sandbox'))

    # 10. Positive side: real servers work the same inside.
    C.append(Case('works.server-filesystem', 'node', [], custom=fs_server_case,
                  exempt='a positive control'))
    C.append(Case('works.server-memory', 'node', [], custom=memory_server_case, exempt='a positive control'))

    # 11. After all of the above, every denial is visible through `mcpcell log` too.
    C.append(Case('audit.log-command', 'c', [], custom=log_command_case,
                  exempt='without a sandbox there are no sandbox.denied records to compare'))
    return C


# ---- custom cases --------------------------------------------------------------------------------

def other_home_case(suite, w, case):
    """Server A leaves a canary in its private home; server B must not read it."""
    canary = w.canary('home-a')
    r = suite.run(w, suite.probe_cmd('c', ['write', '~/escape-home-a', canary]), name='escape-home-a')
    if r.rc == 125 and not suite.args.no_sandbox:
        return 'ERROR', 'mcpcell could not start server A: ' + last_line(r.stderr)
    found = None
    for root, _, files in os.walk(w.home):
        if 'escape-home-a' in files:
            found = os.path.join(root, 'escape-home-a')
            break
    if not found:
        return 'ERROR', 'could not find where server A\'s home is on the host: ' + (r.result or {}).get('detail', '')
    r2 = suite.run(w, suite.probe_cmd('c', ['read', found, canary]), name='escape-home-b')
    os.unlink(found)
    st, detail = judge(suite, w, case, r2, None)
    return st, f'A wrote {found}; B: {detail}'


def teardown_case(suite, w, case, how):
    marker = f'ESCAPE-DAEMON-{suite.rid}-{w.user}-{how}'
    out = {}

    def control(p, ready, r):
        ready.wait(10)
        before = find_marked(marker)
        out['before'] = before
        t0 = time.monotonic()
        if how == 'SIGKILL':
            os.kill(p.pid, signal.SIGKILL)
        elif how == 'SIGTERM':
            os.kill(p.pid, signal.SIGTERM)
        else:
            p.stdin.close()
        left = before
        while time.monotonic() - t0 < SPEC_TEARDOWN_S:
            left = find_marked(marker)
            if not left:
                break
            time.sleep(0.02)
        out['elapsed'] = time.monotonic() - t0
        out['left'] = find_marked(marker)
        out['mcpcell'] = p.poll()
    r = suite.run(w, suite.probe_cmd('c', ['daemonize', marker]), control=control, timeout=20)
    left = out.get('left') or find_marked(marker)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if r.rc == 125 and not suite.args.no_sandbox:
        return 'ERROR', 'mcpcell could not start the server (125): ' + last_line(r.stderr)
    if len(out.get('before', [])) < 2:
        return 'ERROR', f'expected the server, a child and a setsid daemon; saw {out.get("before")} (ready line: {r.ready_at is not None})'
    if out['left']:
        return 'FAIL', f'after {how} of mcpcell, {len(out["left"])} of {len(out["before"])} sandboxed processes still alive after {SPEC_TEARDOWN_S} s'
    return 'PASS', f'{len(out["before"])} processes gone {out["elapsed"] * 1000:.0f} ms after {how} (mcpcell exit {r.rc})'


def client_run(suite, w, steps, server_argv, flags, no_sandbox, env_extra=None):
    sandbox = ['--no-sandbox'] if no_sandbox else []
    cmd = (w.prefix() + [NODE, os.path.join(HERE, 'mcp_client.mjs'), json.dumps(steps), '--',
                         suite.mcpcell, '--quiet', '--name', 'escape-positive', *sandbox,
                         '--allow-read', suite.node_modules, *flags, '--', NODE, *server_argv])
    env = w.env()
    env.update(env_extra or {})
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=w.project, timeout=90)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {'error': f'client exit {p.returncode}: {p.stderr[-500:]}'}


def compare_runs(suite, w, steps, server_argv, flags, env_extra, reset):
    results = []
    for no_sandbox in (True, suite.args.no_sandbox):
        reset()
        results.append(client_run(suite, w, steps, server_argv, flags, no_sandbox, env_extra))
    plain, boxed = results
    if plain.get('error'):
        return 'ERROR', 'the server does not work even without a sandbox: ' + plain['error']
    if boxed.get('error'):
        return 'FAIL', 'inside the sandbox: ' + boxed['error'] + ' ' + boxed.get('stderr', '')[-300:]
    if plain != boxed:
        return 'FAIL', f'results differ: without sandbox {json.dumps(plain)[:400]} / inside {json.dumps(boxed)[:400]}'
    errors = [c['tool'] for c in boxed['calls'] if c['isError']]
    if errors:
        return 'FAIL', 'tool calls returned errors in both runs: ' + ', '.join(errors)
    return 'PASS', f'{len(boxed["tools"])} tools, {len(boxed["calls"])} calls, identical results'


def fs_server_case(suite, w, case):
    data = os.path.join(w.project, 'fsdata')

    def reset():
        shutil.rmtree(data, ignore_errors=True)
        os.makedirs(data)
        with open(os.path.join(data, 'hello.txt'), 'w') as f:
            f.write('hello from the host\n')
        # Both runs see the directory as it is after mcpcell's first run on it (its placeholders),
        # so that the listings compare equal.
        make_placeholders(data)
        w.chown_tree(data)
    steps = [
        {'tool': 'read_text_file', 'arguments': {'path': f'{data}/hello.txt'}},
        {'tool': 'write_file', 'arguments': {'path': f'{data}/new.txt', 'content': 'written by the server'}},
        {'tool': 'read_text_file', 'arguments': {'path': f'{data}/new.txt'}},
        {'tool': 'list_directory', 'arguments': {'path': data}},
        {'tool': 'create_directory', 'arguments': {'path': f'{data}/sub'}},
        {'tool': 'move_file', 'arguments': {'source': f'{data}/new.txt', 'destination': f'{data}/sub/moved.txt'}},
        {'tool': 'search_files', 'arguments': {'path': data, 'pattern': 'moved'}},
    ]
    st, detail = compare_runs(suite, w, steps, [f'{suite.node_modules}/@modelcontextprotocol/server-filesystem/dist/index.js', data],
                              ['--allow-write', data], None, reset)
    if st == 'PASS' and not os.path.exists(f'{data}/sub/moved.txt'):
        return 'FAIL', 'the server\'s writes did not reach the granted directory on the host'
    return st, detail


def memory_server_case(suite, w, case):
    data = os.path.join(w.project, 'memdata')
    mem = os.path.join(data, 'memory.jsonl')

    def reset():
        shutil.rmtree(data, ignore_errors=True)
        os.makedirs(data)
        w.chown_tree(data)
    steps = [
        {'tool': 'create_entities', 'arguments': {'entities': [{'name': 'mcpcell', 'entityType': 'project', 'observations': ['sandboxes servers']}]}},
        {'tool': 'add_observations', 'arguments': {'observations': [{'entityName': 'mcpcell', 'contents': ['has an escape suite']}]}},
        {'tool': 'read_graph', 'arguments': {}},
        {'tool': 'search_nodes', 'arguments': {'query': 'escape'}},
    ]
    st, detail = compare_runs(suite, w, steps, [f'{suite.node_modules}/@modelcontextprotocol/server-memory/dist/index.js'],
                              ['--allow-write', data, '--allow-env', 'MEMORY_FILE_PATH'],
                              {'MEMORY_FILE_PATH': mem}, reset)
    if st == 'PASS' and not (os.path.exists(mem) and 'escape suite' in open(mem).read()):
        return 'FAIL', f'the memory file {mem} was not written on the host'
    return st, detail


def log_command_case(suite, w, case):
    direct = [r for r in w.audit_since(0) if r.get('event') == 'sandbox.denied']
    p = subprocess.run(w.prefix() + [suite.mcpcell, 'log', '--json', '--event', 'sandbox.denied'],
                       capture_output=True, text=True, env=w.env(), timeout=60)
    if p.returncode != 0:
        return 'FAIL', f'mcpcell log exit {p.returncode}: {last_line(p.stderr)}'
    shown = [l for l in p.stdout.splitlines() if l.strip()]
    if len(shown) != len(direct):
        return 'FAIL', f'mcpcell log shows {len(shown)} sandbox.denied records, the file holds {len(direct)}'
    names = sorted(set(n for n in denied_names(direct) if n != '(record)'))
    return 'PASS', f'{len(shown)} sandbox.denied records: {", ".join(names)}'


# ---- driving it ----------------------------------------------------------------------------------

def native_refusals(probe):
    """Attacks this kernel refuses by itself (feature compiled out): there only the audit record
    can tell whether the sandbox filtered them, and the suite says so."""
    out = {}
    for name in ('x32', 'init_module', 'finit_module', 'kexec_load'):
        p = subprocess.run([probe, 'syscall', name, '/nonexistent'], capture_output=True, text=True)
        if p.returncode == 0 and 'ENOSYS' in p.stdout:
            out[name] = f'this kernel lacks {name} (ENOSYS without a sandbox): only the audit record shows the filter'
    for fam in ('AF_ALG', 'AF_KEY', 'AF_VSOCK', 'NETLINK_AUDIT'):
        p = subprocess.run([probe, 'socket', fam], capture_output=True, text=True)
        if p.returncode == 0:
            out['socket.' + fam] = f'this kernel lacks {fam} (refused without a sandbox): only the audit record shows the filter'
    return out


def ensure_user():
    try:
        return pwd.getpwnam(UNPRIV)
    except KeyError:
        subprocess.run(['useradd', '-m', '-s', '/bin/sh', UNPRIV], check=True)
        return pwd.getpwnam(UNPRIV)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--mcpcell', default=os.environ.get('MCPCELL'))
    ap.add_argument('--probes', default=os.path.join(os.environ.get('MCPCELL_BUILD', ''), 'tests/escape'))
    ap.add_argument('--no-sandbox', action='store_true', help='run the cases without isolation; expect them to escape')
    ap.add_argument('--only', help='regex on case ids')
    ap.add_argument('--users', help='comma-separated users (default: root and mcpcell-test as root, else yourself)')
    ap.add_argument('--forkbomb-cap', type=int, default=int(os.environ.get('ESCAPE_FORKBOMB_CAP', 8192)))
    ap.add_argument('--memhog-mib', type=int, default=int(os.environ.get('ESCAPE_MEMHOG_MIB', 6144)))
    ap.add_argument('--strict', action='store_true', help='also fail on cases beyond issue 3 ("extra")')
    ap.add_argument('--json', help='write every verdict to this file')
    ap.add_argument('--keep', action='store_true', help='keep the throwaway homes')
    args = ap.parse_args()
    if not args.mcpcell or not os.access(args.mcpcell, os.X_OK):
        sys.exit(f'escape suite: no mcpcell binary at {args.mcpcell!r} (set MCPCELL or --mcpcell)')
    if not os.path.exists(os.path.join(args.probes, 'escape_probe')):
        sys.exit(f'escape suite: no probes in {args.probes!r} (build the escape_probe target)')

    suite = Suite(args)
    suite.node_modules = os.path.join(os.path.dirname(HERE), '..', 'node_modules')
    suite.node_modules = os.path.realpath(suite.node_modules)
    suite.native_refusals = native_refusals(os.path.join(suite.probes, 'escape_probe'))
    if args.users:
        users = [pwd.getpwnam(u) for u in args.users.split(',')]
    elif os.getuid() == 0:
        users = [pwd.getpwuid(0), ensure_user()]
    else:
        users = [pwd.getpwuid(os.getuid())]
        log(f'SKIP  unprivileged/root split: not running as root, so only as {users[0].pw_name}')
    only = re.compile(args.only) if args.only else None
    mode = 'WITHOUT a sandbox (every case should escape)' if args.no_sandbox else 'inside the sandbox'
    log(f'escape suite {suite.rid}: {args.mcpcell}, {mode}; homes under {suite.base}')
    for n in suite.native_refusals.values():
        log(f'note: {n}')

    verdicts = []
    for pw in users:
        w = World(suite, pw)
        # Pre-flight: if mcpcell cannot start a sandbox at all, every case would "pass" by refusal.
        r = suite.run(w, suite.probe_cmd('c', ['allowed', 'clone']))
        if r.rc == 125 or (r.result or {}).get('outcome') != 'escaped':
            log(f'ERROR  [{w.user}] preflight: mcpcell cannot run the probe at all (exit {r.rc}): '
                f'{last_line(r.stderr)}')
            verdicts.append({'user': w.user, 'case': 'preflight', 'probe': 'c', 'status': 'ERROR',
                             'detail': last_line(r.stderr), 'severity': 'issue', 'exempt': None, 'seconds': 0})
            continue
        if r.session_start:
            log(f'note: [{w.user}] session.start sandbox = {json.dumps(r.session_start.get("sandbox"))}')
        for case in build_cases(suite, w):
            if only and not only.search(case.id):
                continue
            t0 = time.monotonic()
            try:
                if case.setup:
                    case.setup(w)
                if case.custom:
                    status, detail = case.custom(suite, w, case)
                else:
                    fds = case.pass_fds(w) if case.pass_fds else ()
                    pargs = case.args() if callable(case.args) else case.args
                    r = suite.run(w, suite.probe_cmd(case.kind, pargs), flags=case.flags,
                                  timeout=case.timeout, pass_fds=fds, tty=case.tty,
                                  on_ready=case.on_ready)
                    for fd in fds:
                        os.close(fd)
                    host = case.host(w, r) if case.host else None
                    status, detail = judge(suite, w, case, r, host)
                    if (case.id == 'limits.memhog' and status == 'FAIL' and not suite.args.no_sandbox
                            and not cgroup2_memory()):
                        status, detail = 'SKIP', (detail + ' -- NOT CONTAINED, but this host has no cgroup v2 '
                                                  'memory controller (memory is bound to cgroup v1), so mcpcell '
                                                  'cannot set memory.max here')
            except Exception as e:  # a suite bug must not hide the other verdicts
                status, detail = 'ERROR', f'suite error: {type(e).__name__}: {e}'
            finally:
                if case.cleanup:
                    try:
                        case.cleanup(w)
                    except OSError:
                        pass
            if case.note and status != 'SKIP':
                detail += f' ({case.note})'
            v = {'user': w.user, 'case': case.id, 'probe': case.kind, 'status': status, 'detail': detail,
                 'severity': case.severity, 'exempt': case.exempt, 'seconds': round(time.monotonic() - t0, 2)}
            verdicts.append(v)
            tag = status if case.severity == 'issue' or status == 'PASS' else status + '*'
            log(f'{tag:6} [{w.user}] {case.id} ({case.kind}): {detail}')
        if w.helper.poll() is None:
            w.helper.kill()
            w.helper.wait()
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(verdicts, f, indent=1)
    if not args.keep:
        shutil.rmtree(suite.base, ignore_errors=True)
        shutil.rmtree(f'/run/mcpcell-escape-{suite.rid}', ignore_errors=True)
        for pw in users:
            shutil.rmtree(f'/tmp/ssh-escape-{suite.rid}-{pw.pw_name}', ignore_errors=True)
    return summarize(args, verdicts)


def cgroup2_memory():
    for p in ('/sys/fs/cgroup/cgroup.controllers', '/sys/fs/cgroup/unified/cgroup.controllers'):
        try:
            if 'memory' in open(p).read().split():
                return True
        except OSError:
            pass
    return False


def summarize(args, verdicts):
    count = lambda s: sum(1 for v in verdicts if v['status'] == s)
    log(f'\n{len(verdicts)} runs: {count("PASS")} passed, {count("FAIL")} failed, {count("ERROR")} errors, '
        f'{count("SKIP")} skipped')
    if args.no_sandbox:
        # Each case must be able to fail: escape (or miss its audit record) for at least one user.
        by_case = {}
        for v in verdicts:
            by_case.setdefault(v['case'], []).append(v)
        cannot = [c for c, vs in by_case.items()
                  if all(v['status'] in ('PASS', 'SKIP') for v in vs) and not vs[0]['exempt']]
        errors = [f'{v["user"]}:{v["case"]}' for v in verdicts if v['status'] == 'ERROR']
        for c in cannot:
            log(f'CANNOT FAIL: {c}: ' + ' / '.join(f'{v["user"]}: {v["detail"]}' for v in by_case[c]))
        for e in errors:
            log(f'ERROR: {e}')
        log(f'{len(by_case) - len(cannot)} of {len(by_case)} cases can fail; {len(cannot)} cannot')
        return 1 if cannot or errors else 0
    bad = [v for v in verdicts if v['status'] in ('FAIL', 'ERROR') and (v['severity'] == 'issue' or args.strict)]
    extra = [v for v in verdicts if v['status'] in ('FAIL', 'ERROR') and v['severity'] != 'issue']
    for v in bad:
        log(f'{v["status"]}: [{v["user"]}] {v["case"]}: {v["detail"]}')
    if extra and not args.strict:
        log(f'({len(extra)} failures beyond issue 3, marked *, do not fail the suite without --strict)')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
