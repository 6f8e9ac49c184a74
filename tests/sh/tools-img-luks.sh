# SPDX-License-Identifier: LGPL-2.1-or-later
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

# ------------------------------------------------------------ --config
# The stack of a config file is the volume, as for erase: header-backup
# reads the header of its LUKS node, header-restore writes it back there
# (never into the payload).
cat > v.conf <<CONF
stack = { driver = "luks"; key-secret = "k"; file = { driver = "file"; filename = "v.luks"; }; };
secrets = ( { id = "k"; file = "$PASS"; } );
CONF
"$IMG" header-backup --config v.conf c.hdr > /dev/null 2> err.txt || fail "header-backup --config: $(cat err.txt)"
cmp cs.hdr c.hdr || fail "header-backup --config differs from cryptsetup's luksHeaderBackup"
rc=0; "$IMG" header-backup --config v.conf v.luks c2.hdr 2> err.txt || rc=$?
[ $rc = 1 ] && [ ! -e c2.hdr ] && [ ! -e v.luks.hdr ] ||
    fail "header-backup with --config and a file name: rc $rc, $(cat err.txt)"
# A detached header, named in the config.
truncate -s 2M d.img
truncate -s 4M d.hdr
cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 --key-file "$PASS" \
    --header d.hdr d.img
cryptsetup luksHeaderBackup d.hdr --header-backup-file csd.hdr
cat > d.conf <<CONF
stack = { driver = "luks"; key-secret = "k"; file = { driver = "file"; filename = "d.img"; };
          header = { driver = "file"; filename = "d.hdr"; }; };
secrets = ( { id = "k"; file = "$PASS"; } );
CONF
"$IMG" header-backup --config d.conf dc.hdr > /dev/null 2> err.txt || fail "header-backup --config (detached): $(cat err.txt)"
cmp csd.hdr dc.hdr || fail "header-backup --config of a detached header differs from cryptsetup's"

# Restore through the volume's config: a key added by cryptsetup since the
# backup is gone again, the file is byte for byte the one backed up.
cp v.luks v0.luks
cryptsetup luksAddKey -q --pbkdf-force-iterations 1000 --key-file "$PASS" v.luks "$PASS2"
cmp -s v0.luks v.luks && fail "cryptsetup luksAddKey changed nothing"
"$IMG" header-restore --yes --config v.conf cs.hdr > /dev/null 2> err.txt ||
    fail "header-restore --config: $(cat err.txt)"
cmp v0.luks v.luks || fail "header-restore --config did not write the header back in place"
# A destroyed header: the volume's stack no longer opens, and nothing is
# written; a config naming the file itself restores it.
dd if=/dev/zero of=v.luks bs=4096 count=1 conv=notrunc status=none
cp v.luks z.luks
rc=0; "$IMG" header-restore --yes --config v.conf cs.hdr 2> err.txt || rc=$?
[ $rc = 1 ] && grep -q 'FILE BACKUP' err.txt || fail "header-restore --config on a destroyed header: rc $rc, $(cat err.txt)"
cmp -s z.luks v.luks || fail "refused header-restore --config wrote to the volume"
cat > f.conf <<CONF
stack = { driver = "file"; filename = "v.luks"; };
CONF
"$IMG" header-restore --yes --config f.conf cs.hdr > /dev/null 2> err.txt ||
    fail "header-restore --config (the file): $(cat err.txt)"
cmp v0.luks v.luks || fail "header-restore --config (the file) did not restore the header"
cryptsetup open --test-passphrase --key-file "$PASS" v.luks || fail "cryptsetup cannot open the restored volume"

# ------------------------------------------------------------ --yes
# header-backup never overwrites anything and asks nothing: --yes is not
# one of its options.
for y in "--yes '--yes'" "-y 'y'"; do
    set -- $y
    rc=0; "$IMG" header-backup $1 v.luks y.hdr 2> err.txt || rc=$?
    [ $rc = 1 ] && grep -q -- "$2" err.txt && [ ! -e y.hdr ] ||
        fail "header-backup $1: rc $rc, $(cat err.txt)"
done

echo "tools-img-luks: ok"
