#!/usr/bin/env python3
"""Counts for bench/syscalls.sh.

    strace_counts.py TRACE THREADS TRANSACTIONS WORKLOAD TARGET   -> count lines (TSV) on stdout
    strace_counts.py --report RESULTS LOAD                        -> the table per transaction

TRACE is `strace -f -y -o` output: one call per line, prefixed by the thread id, the descriptor's
type after its number (`7<TCP:[...]>`, `9<anon_inode:[eventfd]>`), a call interrupted by another
thread's line split into `<unfinished ...>` and `<... NAME resumed>`. THREADS maps thread ids to
their names, so that the event loops' calls can be told from the rest of the JVM's.
"""
import collections
import re
import sys

CALL = re.compile(r'^(\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*)$')
FD_TYPE = re.compile(r'^(\d+)<([^>]*)>')

READS = {'read', 'readv', 'recvfrom', 'recvmsg', 'recvmmsg'}
WRITES = {'write', 'writev', 'sendto', 'sendmsg', 'sendmmsg'}

# The columns of the report, in order, with what each counts.
COLUMNS = [
    ('calls', 'system calls (perf, without strace)'),
    ('cs_vol', 'voluntary context switches (/proc)'),
    ('cs_invol', 'non-voluntary context switches (/proc)'),
    ('epoll_wait', 'epoll_wait and epoll_pwait returns'),
    ('epoll_wait_0', 'of which with nothing ready (timeout)'),
    ('sock_read', 'reads from sockets'),
    ('sock_read_eagain', 'of which EAGAIN'),
    ('sock_write', 'writes to sockets (write, writev, sendto, sendmsg)'),
    ('eventfd_write', 'eventfd writes (wake-ups of another thread\'s event loop)'),
    ('eventfd_read', 'eventfd reads'),
    ('timerfd', 'timerfd_settime'),
    ('epoll_ctl', 'epoll_ctl (interest changes: autoread toggles, write interest)'),
    ('futex', 'futex'),
    ('other', 'other calls'),
    ('loop_calls', 'calls on the event-loop threads (pgpolicy-io-*)'),
    ('traced', 'all calls under strace'),
]


def is_socket(fd_type):
    # strace -y names a socket "socket:[inode]"; -yy would give its TCP addresses.
    return fd_type.startswith('socket:') or fd_type.startswith('TCP')


def classify(name, args, result, error):
    """The report keys one call adds to."""
    match = FD_TYPE.match(args)
    fd_type = match.group(2) if match else ''
    keys = []
    if name in ('epoll_wait', 'epoll_pwait', 'epoll_pwait2'):
        keys.append('epoll_wait')
        if result == '0':
            keys.append('epoll_wait_0')
    elif name in READS and is_socket(fd_type):
        keys.append('sock_read')
        if error == 'EAGAIN':
            keys.append('sock_read_eagain')
    elif name in WRITES and is_socket(fd_type):
        keys.append('sock_write')
    elif name in WRITES and 'eventfd' in fd_type:
        keys.append('eventfd_write')
    elif name in READS and 'eventfd' in fd_type:
        keys.append('eventfd_read')
    elif name.startswith('timerfd_settime'):
        keys.append('timerfd')
    elif name == 'epoll_ctl':
        keys.append('epoll_ctl')
    elif name == 'futex':
        keys.append('futex')
    else:
        keys.append('other')
        keys.append('other:' + name)
    return keys


def result_of(tail):
    """The return value and errno name of a completed call: `... ) = -1 EAGAIN (...)`."""
    # The last ") = " is the result's: quoted arguments are escaped by strace and come before it.
    at = tail.rfind(') = ')
    if at < 0:
        return '?', None
    words = tail[at + 4:].split()
    value = words[0] if words else '?'
    error = words[1] if value == '-1' and len(words) > 1 else None
    return value, error


def count(trace, threads_file, transactions, workload, target):
    names = {}
    with open(threads_file) as f:
        for line in f:
            tid, _, comm = line.rstrip('\n').partition('\t')
            names[tid] = comm
    pending = {}  # thread id -> (name, args) of a call split by another thread's line
    counts = collections.Counter()
    with open(trace, errors='replace') as f:
        for line in f:
            match = CALL.match(line)
            if not match:
                continue  # signals, exits
            tid, resumed, started, rest = match.groups()
            if started:
                if rest.endswith('<unfinished ...>'):
                    pending[tid] = (started, rest)
                    continue
                name, args, tail = started, rest, rest
            else:
                name, args = pending.pop(tid, (resumed, ''))
                tail = rest
            value, error = result_of(tail)
            counts['traced'] += 1
            if names.get(tid, '').startswith('pgpolicy-io'):
                counts['loop_calls'] += 1
            for key in classify(name, args, value, error):
                counts[key] += 1
    for key, value in sorted(counts.items()):
        print(f'strace\t{workload}\t{target}\t{transactions}\t{key}\t{value}')


def report(results, load):
    plain = {}
    traced = collections.defaultdict(collections.Counter)
    traced_tx = {}
    with open(results) as f:
        for line in f:
            fields = line.rstrip('\n').split('\t')
            if fields[0] == 'plain':
                _, w, t, tx, calls, cs, vol, invol = fields
                plain[(w, t)] = (int(tx), int(calls or 0), int(vol), int(invol))
            else:
                _, w, t, tx, key, value = fields
                traced[(w, t)][key] += int(value)
                traced_tx[(w, t)] = int(tx)
    keys = [k for k, _ in COLUMNS]
    widths = {k: max(10, len(k)) + 2 for k in keys}  # a column never runs into the next one
    header = f'{"workload":16} {"target":15}' + ''.join(f'{k:>{widths[k]}}' for k in keys)
    print(header)
    print('-' * len(header))
    for (w, t), (tx, calls, vol, invol) in plain.items():
        row = {'calls': calls / tx, 'cs_vol': vol / tx, 'cs_invol': invol / tx}
        ttx = traced_tx.get((w, t), 0)
        for k in keys[3:]:
            row[k] = traced[(w, t)][k] / ttx if ttx else float('nan')
        print(f'{w:16} {t:15}' + ''.join(f'{row[k]:{widths[k]}.2f}' for k in keys))
    print()
    print('other calls per transaction, by name (strace):')
    for (w, t), counter in traced.items():
        ttx = traced_tx[(w, t)]
        others = sorted(((v, k[6:]) for k, v in counter.items() if k.startswith('other:')), reverse=True)[:8]
        print(f'  {w} {t}: ' + ', '.join(f'{name} {v / ttx:.2f}' for v, name in others))
    print()
    for k, meaning in COLUMNS:
        print(f'  {k}: {meaning}')
    print(f'load: {load.strip()}')


if __name__ == '__main__':
    if sys.argv[1] == '--report':
        report(sys.argv[2], sys.argv[3])
    else:
        count(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
