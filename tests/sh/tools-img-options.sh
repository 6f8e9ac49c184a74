# SPDX-License-Identifier: LGPL-2.1-or-later
# strata-img's option lists cannot drift apart: for every command, the
# options its table lists (strata-img CMD --help, made from the table) are
# the options of its usage line and of its synopsis in strata-img(1), and
# the man page has a section for every command and none for others.
. "$(dirname "$0")/lib/common.sh"

IMG=$STRATA_BUILD/bin/strata-img
"$IMG" --help > "$T/commands.txt"
for c in $(sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p' "$T/commands.txt"); do
    "$IMG" "$c" --help > "$T/help-$c.txt" || fail "$c --help exits non-zero"
done
ls "$T"/help-*.txt >/dev/null 2>&1 || fail "strata-img --help lists no commands"

python3 - "$STRATA_SRCDIR/docs/man/strata-img.1" "$T" <<'PY'
import glob, os, re, sys

man_path, tmp = sys.argv[1], sys.argv[2]
TOKEN = re.compile(r'(?<![\w-])(--?[A-Za-z][\w-]*)')

def tokens(text):
    return set(TOKEN.findall(text))

def unroff(line):
    line = line.replace('\\-', '-').replace('"', ' ')
    return re.sub(r'\\f[BIRP]', '', line)

# The synopsis of each command: from ".B strata-img NAME" to the next ".PP".
man = {}
section = None
lines = open(man_path).read().splitlines()
for i, line in enumerate(lines):
    m = re.match(r'\.SS (\S+)$', line)
    if m:
        section = unroff(m.group(1))
        continue
    m = re.match(r'\.B strata-img (\S+)$', line)
    if m and section == unroff(m.group(1)):
        syn = []
        for l in lines[i + 1:]:
            if l.startswith('.PP') or l.startswith('.SH') or l.startswith('.SS'):
                break
            syn.append(unroff(l))
        man[section] = tokens(' '.join(syn))

problems = []
commands = []
for path in sorted(glob.glob(os.path.join(tmp, 'help-*.txt'))):
    cmd = os.path.basename(path)[5:-4]
    commands.append(cmd)
    text = open(path).read().split('\n')
    usage = []
    for l in text:
        if not l.strip():
            break
        usage.append(l)
    usage_tokens = tokens(' '.join(usage)[len('usage: strata-img ' + cmd):])
    # Option lines: "  -x, --long=ARG   text"; a long label stands alone.
    groups = []
    body = text[len(usage):]
    for l in body:
        if l.startswith('  -'):
            label = re.split(r'\s{2,}', l.strip())[0]
            groups.append(tokens(label))
    if not groups and usage_tokens:
        problems.append('%s: --help lists no options' % cmd)
    known = set().union(*groups) if groups else set()
    for where, have in (('the --help usage line', usage_tokens),
                        ('strata-img(1)', man.get(cmd))):
        if have is None:
            problems.append('%s: no synopsis in strata-img(1)' % cmd)
            continue
        for g in groups:
            if not g & have:
                problems.append('%s: %s is in the table but not in %s' %
                                (cmd, ' / '.join(sorted(g)), where))
        for t in sorted(have - known):
            problems.append('%s: %s is in %s but not in the table' % (cmd, t, where))

for extra in sorted(set(man) - set(commands)):
    problems.append('strata-img(1) has a synopsis for %s, which is no command' % extra)
for p in problems:
    print('FAIL:', p, file=sys.stderr)
print('%d commands checked' % len(commands))
sys.exit(1 if problems or len(commands) < 10 else 0)
PY
echo "tools-img-options: ok"
