#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# secret-hiding.sh - error messages that quote an --object argument, an
# option string (-o, --image-opts) show data=<hidden>, never the secret,
# in strata-img and strata-io; the rest of the string stays readable.
. "$STRATA_SRCDIR/tests/sh/lib/common.sh"
S='Sup3r,,Secret'
truncate -s 1M "$T/d.img"

check() { # DESCRIPTION COMMAND...: fails, hides the secret, shows data=<hidden>
    local what=$1
    shift
    "$@" >"$T/err" 2>&1 </dev/null && fail "$what: accepted"
    contains -e "Sup3r" -e "Secret" "$T/err" && fail "$what shows the secret: $(cat "$T/err")"
    contains -F "data=<hidden>" "$T/err" || fail "$what: $(cat "$T/err")"
    echo "$what: $(cat "$T/err")"
}
check "object without type" strata-img info --object "id=k,data=$S,x=1" "$T/d.img"
check "object bad option name" strata-img info --object "secret,id=k,data=$S,=4" "$T/d.img"
check "strata-io object" strata-io --object "id=k,data=$S" -c "read 0 1" "$T/d.img"
check "image-opts" strata-img info --image-opts "driver=raw,file.filename=$T/d.img,x.data=$S,foo"
check "-o" strata-img create -f raw -o "data=$S,=" "$T/n.img" 1M
# The other options of the string are still quoted as given.
strata-img info --object "id=k,data=$S,x=1" "$T/d.img" >"$T/err" 2>&1 && fail "accepted"
contains -F "'id=k,data=<hidden>,x=1'" "$T/err" || fail "the rest of the string is not shown"
echo "secret-hiding: ok"
