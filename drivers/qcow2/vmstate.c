/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmstate.c - the VM state area: qemu's savevm stores a machine's memory
 * and devices in the guest address space from the first L1 entry past the
 * disk's end, so it is read and written as guest data there, and a
 * snapshot taken afterwards copies it with the L1 table. */
#include "qcow2.h"

#include <errno.h>

int qcow2_vmstate_io(struct qcow2_state *s, bool write, uint64_t pos, uint64_t len,
                     void *buf, struct strata_error **errp)
{
    uint64_t base = qcow2_vm_state_offset(s);
    if (pos > UINT64_MAX - base - len)
        return strata_error_set(errp, EFBIG, "%s: VM state offset %llu is too large",
                                s->name, (unsigned long long)pos);
    qcow2_event(s, write ? STRATA_EV_VMSTATE_SAVE : STRATA_EV_VMSTATE_LOAD);
    if (write)
        return qcow2_do_pwrite(s, base + pos, len, buf, 0, errp);
    return qcow2_do_pread(s, base + pos, len, buf, errp);
}
