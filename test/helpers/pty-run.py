#!/usr/bin/env python3
"""Runs a command in a pseudo-terminal, answers prompts, and prints {"output", "status"} as JSON.

usage: pty-run.py PROMPT_REGEX ANSWER [PROMPT_REGEX ANSWER ...] -- COMMAND [ARG...]
Each answer (followed by a carriage return, as a terminal's Enter) is typed once its prompt has appeared.
"""
import fcntl, json, os, pty, re, select, struct, sys, termios, time

split = sys.argv.index('--')
pairs = sys.argv[1:split]
command = sys.argv[split + 1:]
answers = [(re.compile(pairs[i]), pairs[i + 1]) for i in range(0, len(pairs), 2)]

pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)
# A terminal has a size (a fresh pseudo-terminal's is 0x0, which a renderer would take as no room at all).
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', int(os.environ.get('PTY_ROWS', '40')), int(os.environ.get('PTY_COLUMNS', '120')), 0, 0))

output = b''
deadline = time.time() + float(os.environ.get('PTY_RUN_TIMEOUT', '120'))
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.1)
    if ready:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    if answers and answers[0][0].search(output.decode('utf8', 'replace')):
        _, answer = answers.pop(0)
        time.sleep(0.1)
        os.write(fd, answer.encode('utf8') + b'\r')
_, status = os.waitpid(pid, 0)
print(json.dumps({'output': output.decode('utf8', 'replace'), 'status': os.waitstatus_to_exitcode(status), 'unanswered': len(answers)}))
