# strata-img's LUKS commands (header-backup, header-restore) and the options
# they take, on volumes made by cryptsetup; cryptsetup's own header backup
# is the reference for the bytes saved and restored.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/luks.sh"
. "$(dirname "$0")/lib/hold.sh"

IMG=$STRATA_BUILD/bin/strata-img
cd "$T"

cs_format v.luks 4M
cryptsetup luksHeaderBackup v.luks --header-backup-file cs.hdr

# ------------------------------------------------------------ -U
# header-backup only reads: -U opens the volume without locks, so a backup
# can be taken while another program has it open for writing.
hold_open v.luks
rc=0; "$IMG" header-backup v.luks locked.hdr 2> err.txt || rc=$?
[ $rc = 1 ] && grep -qi 'lock' err.txt || fail "header-backup of a volume in use: rc $rc, $(cat err.txt)"
[ ! -e locked.hdr ] || fail "a refused header-backup left a file"
"$IMG" header-backup -U v.luks u.hdr > /dev/null 2> err.txt || fail "header-backup -U: $(cat err.txt)"
hold_release
cmp cs.hdr u.hdr || fail "header-backup -U differs from cryptsetup's luksHeaderBackup"
# header-restore writes: -U is refused before the target is opened.
cp v.luks r.luks
dd if=/dev/zero of=r.luks bs=4096 count=1 conv=notrunc status=none
cp r.luks r0.luks
for u in -U --force-share; do
    rc=0; "$IMG" header-restore $u --yes r.luks cs.hdr 2> err.txt || rc=$?
    [ $rc = 1 ] && grep -q -- '-U' err.txt || fail "header-restore $u: rc $rc, $(cat err.txt)"
    cmp -s r0.luks r.luks || fail "refused header-restore $u wrote to the target"
done

echo "tools-img-luks: ok"
