# SPDX-License-Identifier: LGPL-2.1-or-later
# The protocols' checks of what they open, against qemu-io: file takes
# regular files (and, in strata, block devices), host_device and
# host_cdrom character or block devices; a directory is refused by each.
. "$(dirname "$0")/lib/common.sh"

need qemu-io
cd "$T"
. "$(dirname "$0")/lib/io-parity.sh"

dir() { rm -rf d.img; mkdir d.img; }
for proto in file host_device host_cdrom; do
    same dir -c "open -r -o driver=$proto,filename=d.img"
    same dir -c "open -o driver=$proto,filename=d.img"
    same dir -c "open -r -o driver=$proto,filename=/dev/null,locking=off" -c length
    same dir -c "open -o driver=$proto,filename=/dev/null,locking=off"
done
same dir -c "open -r -o driver=host_device,filename=/dev/zero,locking=off" -c length
reg() { rm -f r.img; truncate -s 1M r.img; }
same reg -c "open -r -o driver=host_device,filename=r.img"
same reg -c "open -r -o driver=file,filename=r.img" -c length
echo ok
