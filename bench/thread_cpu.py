#!/usr/bin/env python3
"""CPU per transaction of a process's threads, grouped by thread name, for bench/syscalls.sh.

    thread_cpu.py snapshot PID                       -> one line per thread (TSV) on stdout
    thread_cpu.py report BEFORE AFTER TRANSACTIONS   -> user and system µs per transaction, per group

Threads are grouped by name without its trailing number (pgpolicy-io-3-1 and pgpolicy-io-3-2 are
one group), so the event loops, the audit writer, the JIT and the GC each get one line. A thread
that started between the snapshots counts from zero; one that ended is missing from both sides
of the sum, so take the snapshots around a run that opens no connection.
"""
import os
import re
import sys


def snapshot(pid):
    ticks_per_second = os.sysconf('SC_CLK_TCK')
    for task in os.listdir(f'/proc/{pid}/task'):
        try:
            with open(f'/proc/{pid}/task/{task}/stat') as f:
                stat = f.read()
        except OSError:
            continue  # the thread ended while we listed them
        # The name is in parentheses and may itself hold spaces or parentheses.
        name = stat[stat.index('(') + 1:stat.rindex(')')]
        fields = stat[stat.rindex(')') + 2:].split()
        user, system = int(fields[11]), int(fields[12])
        print(f'{task}\t{name}\t{user / ticks_per_second:.3f}\t{system / ticks_per_second:.3f}')


def read(path):
    threads = {}
    with open(path) as f:
        for line in f:
            task, name, user, system = line.rstrip('\n').split('\t')
            threads[task] = (name, float(user), float(system))
    return threads


def report(before_path, after_path, transactions):
    before, after = read(before_path), read(after_path)
    groups = {}
    for task, (name, user, system) in after.items():
        _, user0, system0 = before.get(task, (name, 0.0, 0.0))
        group = re.sub(r'[-#]?\d+$', '', re.sub(r'-\d+-\d+$', '', name))
        total = groups.setdefault(group, [0.0, 0.0])
        total[0] += user - user0
        total[1] += system - system0
    scale = 1e6 / transactions
    print(f'{"threads":<20} {"user us/tx":>11} {"system us/tx":>13}')
    for group, (user, system) in sorted(groups.items(), key=lambda g: -(g[1][0] + g[1][1])):
        if user + system > 0:
            print(f'{group:<20} {user * scale:>11.2f} {system * scale:>13.2f}')
    user = sum(g[0] for g in groups.values())
    system = sum(g[1] for g in groups.values())
    print(f'{"all":<20} {user * scale:>11.2f} {system * scale:>13.2f}')


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == 'snapshot':
        snapshot(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == 'report':
        report(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)
