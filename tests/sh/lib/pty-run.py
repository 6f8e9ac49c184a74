#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# pty-run.py - runs a command on a pseudo-terminal and answers its prompts:
#   pty-run.py [PROMPT ANSWER]... -- COMMAND [ARG]...
# Each ANSWER and a newline is typed once the output ends with its PROMPT
# (trailing blanks ignored).  Everything the terminal showed goes to stdout,
# so a test can see whether a typed answer was echoed; the exit status is
# the command's (124 when it hung for 30 seconds).
import os
import pty
import select
import sys
import time

args = sys.argv[1:]
sep = args.index("--")
pairs = [(args[i], args[i + 1]) for i in range(0, sep, 2)]
argv = args[sep + 1:]

pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)

shown = b""
deadline = time.time() + 30
status = None
while True:
    ready, _, _ = select.select([fd], [], [], 0.1)
    if ready:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            break
        shown += data
    if pairs and shown.rstrip().endswith(pairs[0][0].encode()):
        os.write(fd, pairs[0][1].encode() + b"\n")
        pairs.pop(0)
    if time.time() > deadline:
        os.kill(pid, 9)
        status = 124
        break
_, st = os.waitpid(pid, 0)
sys.stdout.write(shown.decode(errors="replace"))
sys.exit(status if status is not None else os.waitstatus_to_exitcode(st))
