"""The escape suite's python probe: the same attacks as escape_probe, through python's own APIs,
since many MCP servers are python programs (and python exposes AF_ALG, AF_PACKET, AF_VSOCK and raw
syscalls through ctypes without a compiler). One attack per run; the result is one JSON-RPC
notification on stdout (and stderr), exit 0 = blocked, 1 = escaped, 2 = error. Never prints what it
read: only whether the suite's canary token was in it. See docs/escape-suite.md."""
import ctypes
import errno
import json
import os
import socket
import sys

ATTACK = sys.argv[1] if len(sys.argv) > 1 else ''
ARGS = sys.argv[2:]
REFUSALS = (errno.EPERM, errno.EACCES, errno.ENOSYS)


def report(outcome, detail, **extra):
    line = json.dumps({'jsonrpc': '2.0', 'method': 'probe/result',
                       'params': {'probe': 'python', 'attack': ATTACK, 'outcome': outcome,
                                  'detail': detail, **extra}}) + '\n'
    os.write(1, line.encode())
    os.write(2, line.encode())
    os._exit({'blocked': 0, 'escaped': 1}.get(outcome, 2))


def ename(e):
    return errno.errorcode.get(e, str(e))


def read(path, canary):
    try:
        with open(path, 'rb') as f:
            data = f.read(1 << 20)
    except OSError as e:
        report('blocked', f'open {path}: {ename(e.errno)}')
    if canary.encode() in data:
        report('escaped', f'read the canary from {path}')
    report('blocked', f'opened {path} ({len(data)} bytes) but no canary')


def write(path, canary):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    except OSError:
        pass
    try:
        with open(path, 'a') as f:
            f.write(f'\n# {canary}\n')
        report('escaped', f'appended to {path}')
    except OSError as e:
        report('blocked', f'append {path}: {ename(e.errno)}')


def env(canary, *names):
    found = [n for n in names if n in os.environ]
    found += [f'value-of:{k}' for k, v in os.environ.items() if canary in v]
    if found:
        report('escaped', 'secrets visible: ' + ' '.join(found))
    report('blocked', f'none of {len(names)} names, no canary in os.environ')


def connect(family, addr, what, token):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect(addr)
        s.sendall(token.encode() + b'\n')
    except OSError as e:
        report('blocked', f'connect {what}: {ename(e.errno) if e.errno else type(e).__name__}')
    report('escaped', f'connected to {what}')


def udp(host, port, token):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        s.sendto(token.encode(), (host, int(port)))
        s.recvfrom(1500)
    except OSError as e:
        report('blocked', f'udp {host}:{port}: {ename(e.errno) if e.errno else "no reply"}')
    report('escaped', f'got a reply from {host}:{port}')


def resolve(name):
    try:
        addrs = {a[4][0] for a in socket.getaddrinfo(name, 443, proto=socket.IPPROTO_TCP)}
    except OSError as e:
        report('blocked', f'resolve {name}: {e}')
    report('escaped', f'resolved {name} to {len(addrs)} addresses')


FAMILIES = {
    'AF_ALG': lambda: socket.socket(socket.AF_ALG, socket.SOCK_SEQPACKET, 0),
    'AF_PACKET': lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0x0300),
    'AF_VSOCK': lambda: socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM, 0),
    'NETLINK_KOBJECT_UEVENT': lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 15),
}


def sock(name):
    try:
        FAMILIES[name]().close()
    except OSError as e:
        if e.errno in REFUSALS + (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT):
            report('blocked', f'socket({name}): {ename(e.errno)}')
        report('escaped', f'socket({name}) reached the kernel ({ename(e.errno)}): not filtered')
    report('escaped', f'socket({name}) succeeded')


SYSCALLS = {'io_uring_setup': 425, 'unshare': 272, 'userfaultfd': 323, 'keyctl': 250}


def syscall(name):
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    args = {'io_uring_setup': (4, params), 'unshare': (0x10000000,),  # CLONE_NEWUSER
            'userfaultfd': (0o2000000 | 1,), 'keyctl': (0, -3, 0)}[name]
    pid = os.fork()
    if pid == 0:  # the call may change this process (a new namespace): do it in a child
        rc = libc.syscall(SYSCALLS[name], *args)
        os._exit(0 if rc >= 0 else min(ctypes.get_errno(), 250) + 1)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        report('blocked', f'{name}: killed by signal {os.WTERMSIG(status)}')
    code = os.WEXITSTATUS(status)
    if code == 0:
        report('escaped', f'{name} succeeded')
    if code - 1 in REFUSALS:
        report('blocked', f'{name}: {ename(code - 1)}')
    report('escaped', f'{name} reached the kernel ({ename(code - 1)}): not filtered')


def ifaces():
    names = [n for _, n in socket.if_nameindex()]
    report('escaped' if any(n != 'lo' for n in names) else 'blocked', 'interfaces: ' + ' '.join(names))


def pids(reversed_marker):
    marker = reversed_marker[::-1]  # reversed so our own argv does not match
    all_pids = [p for p in os.listdir('/proc') if p.isdigit()]
    seen = []
    for p in all_pids:
        try:
            with open(f'/proc/{p}/cmdline', 'rb') as f:
                if marker.encode() in f.read():
                    seen.append(p)
        except OSError:
            pass
    if seen:
        report('escaped', 'host helper visible as pid ' + ' '.join(seen))
    report('blocked', f'{len(all_pids)} processes visible, no host helper')


def kill(pid, sig):
    try:
        os.kill(int(pid), int(sig))
    except OSError as e:
        report('blocked', f'kill: {ename(e.errno)}')
    report('escaped', f'kill({pid}, {sig}) succeeded')


ATTACKS = {
    'read': read, 'write': write, 'env': env, 'udp': udp, 'resolve': resolve, 'socket': sock,
    'syscall': syscall, 'ifaces': ifaces, 'pids': pids, 'kill': kill,
    'connect-tcp': lambda h, p, t: connect(socket.AF_INET, (h, int(p)), f'{h}:{p}', t),
    'connect-unix': lambda p, t: connect(socket.AF_UNIX, p, p, t),
    'connect-abstract': lambda n, t: connect(socket.AF_UNIX, '\0' + n, '@' + n, t),
}

if ATTACK not in ATTACKS:
    report('error', f'unknown attack {ATTACK}')
try:
    ATTACKS[ATTACK](*ARGS)
except Exception as e:  # a probe bug, not a verdict
    report('error', f'{type(e).__name__}: {e}')
