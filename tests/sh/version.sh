# SPDX-License-Identifier: LGPL-2.1-or-later
# The version is typed once, in configure.ac's AC_INIT: the tools, the
# library at run time, the installed header, strata.pc and the man pages
# all carry that one.
. "$(dirname "$0")/lib/common.sh"

want=$(sed -n 's/^AC_INIT(\[strata\], *\[\([^]]*\)\]).*/\1/p' "$STRATA_SRCDIR/configure.ac")
[ -n "$want" ] || fail "no version in configure.ac's AC_INIT"

for tool in strata-img strata-io strata-replay; do
    got=$("$STRATA_BUILD/bin/$tool" --version)
    [ "$got" = "$tool version $want" ] || fail "$tool --version: '$got', configure.ac: $want"
done

prefix=$(strata_test_prefix)
got=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --modversion strata)
[ "$got" = "$want" ] || fail "strata.pc: Version $got, configure.ac: $want"

cat > "$T/v.c" <<'C'
#include <stdio.h>
#include <strata/strata.h>
int main(void)
{
    printf("%s %s\n", STRATA_VERSION, strata_version());
    return 0;
}
C
cc $SAN_CFLAGS "$T/v.c" -I"$prefix/include" -L"$prefix/lib" -lstrata \
    -Wl,-rpath,"$prefix/lib" -o "$T/v" || fail "a program using STRATA_VERSION does not build"
got=$("$T/v")
[ "$got" = "$want $want" ] || fail "STRATA_VERSION and strata_version(): '$got', configure.ac: $want"
[ -e "$prefix/lib/libstrata.so.$want" ] || fail "no libstrata.so.$want installed"

for m in "$STRATA_BUILD"/man/*; do
    head -n 1 "$m" | contains -F "\"strata $want\"" || fail "$m: .TH does not name strata $want"
done
echo "version: $want everywhere"
