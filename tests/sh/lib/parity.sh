# SPDX-License-Identifier: LGPL-2.1-or-later
# parity.sh - sourced by tests that hold strata-img's output against
# qemu-img's for the same command.

# same WHAT CMD-ARGS...: strata-img and qemu-img give the same output and
# exit status (the program name in messages aside; a 'Formatting' line is
# compared up to the file name, as qemu-img lists every default there).
same() {
    local what=$1 rq=0 rs=0
    shift
    qemu-img "$@" >q.out 2>&1 || rq=$?
    strata-img "$@" >s.out 2>&1 || rs=$?
    sed -i "s/^qemu-img: //; s/qemu-img: /\n/g; s/^\(Formatting '[^']*'\).*/\1/" q.out
    sed -i "s/^strata-img: //; s/^\(Formatting '[^']*'\).*/\1/" s.out
    [ $rq = $rs ] || fail "$what: exit status $rs, qemu-img $rq"
    diff <(sed -e '$a\' -e '/^$/d' q.out) <(sed -e '$a\' -e '/^$/d' s.out) || fail "$what: output differs"
}
