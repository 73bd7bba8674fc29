#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send HMP commands to a qemu monitor on a unix socket and print the replies.

    qemu-monitor.py SOCKET COMMAND...

Used by run-guest.sh when the guest stops making progress: it records each
vCPU's registers ("info registers -a") before injecting an NMI (system
reset), so that a hang leaves evidence behind.
"""
import re
import socket
import sys
import time


def read_until_prompt(s, timeout=10.0):
    s.settimeout(timeout)
    buf = b""
    end = time.time() + timeout
    while b"(qemu) " not in buf and time.time() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    return buf.decode(errors="replace")


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: qemu-monitor.py SOCKET COMMAND...")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    read_until_prompt(s)
    for cmd in sys.argv[2:]:
        s.sendall(cmd.encode() + b"\n")
        out = read_until_prompt(s).replace("\r", "")
        # Drop the monitor's echo of the command (with its cursor moves).
        out = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", out)
        lines = out.replace("(qemu) ", "").split("\n")[1:]
        print(f"### {cmd}")
        print("\n".join(lines).strip())
    s.close()


if __name__ == "__main__":
    main()
