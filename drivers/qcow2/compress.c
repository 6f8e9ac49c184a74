/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* compress.c - compressed clusters: zlib (raw deflate, as qcow2 has always
 * used) and zstd (compression_type=1).  Compressed data is packed at byte
 * granularity; a descriptor counts whole 512-byte sectors, so the data read
 * back may carry trailing bytes of a neighbour, which decompression ignores. */
#include "qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

static int zlib_decompress(struct qcow2_state *s, const uint8_t *in, size_t inlen,
                           uint8_t *out, size_t outlen, struct strata_error **errp)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return strata_error_set(errp, ENOMEM, "%s: cannot set up zlib", s->name);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)inlen;
    z.next_out = out;
    z.avail_out = (uInt)outlen;
    int zr = inflate(&z, Z_FINISH);
    size_t got = outlen - z.avail_out;
    inflateEnd(&z);
    /* Trailing sector padding makes Z_BUF_ERROR/Z_OK normal once the output
     * is full. */
    if ((zr != Z_STREAM_END && zr != Z_BUF_ERROR && zr != Z_OK) || got != outlen)
        return strata_error_set(errp, EIO, "zlib data is corrupt (%s, %zu of %zu bytes)",
                                z.msg ? z.msg : "error", got, outlen);
    return 0;
}

static int zstd_decompress(struct qcow2_state *s, const uint8_t *in, size_t inlen,
                           uint8_t *out, size_t outlen, struct strata_error **errp)
{
    if (!s->zstd_dctx && !(s->zstd_dctx = ZSTD_createDCtx()))
        return strata_error_set(errp, ENOMEM, "%s: cannot set up zstd", s->name);
    ZSTD_DCtx *d = s->zstd_dctx;
    ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
    ZSTD_inBuffer ib = { in, inlen, 0 };
    ZSTD_outBuffer ob = { out, outlen, 0 };
    while (ob.pos < ob.size) {
        size_t zr = ZSTD_decompressStream(d, &ob, &ib);
        if (ZSTD_isError(zr))
            return strata_error_set(errp, EIO, "zstd data is corrupt (%s)",
                                    ZSTD_getErrorName(zr));
        if (zr == 0 || ib.pos == ib.size)
            break;
    }
    if (ob.pos != outlen)
        return strata_error_set(errp, EIO, "zstd data is short (%zu of %zu bytes)", ob.pos,
                                outlen);
    return 0;
}

int qcow2_decompress(struct qcow2_state *s, const uint8_t *in, size_t inlen, uint8_t *out,
                     size_t outlen, struct strata_error **errp)
{
    if (s->compression_type == QCOW2_COMPRESS_ZSTD)
        return zstd_decompress(s, in, inlen, out, outlen, errp);
    return zlib_decompress(s, in, inlen, out, outlen, errp);
}

long qcow2_compress(struct qcow2_state *s, const uint8_t *in, size_t inlen, uint8_t *out,
                    size_t outcap, struct strata_error **errp)
{
    if (s->compression_type == QCOW2_COMPRESS_ZSTD) {
        if (!s->zstd_cctx && !(s->zstd_cctx = ZSTD_createCCtx()))
            return strata_error_set(errp, ENOMEM, "%s: cannot set up zstd", s->name);
        size_t zr = ZSTD_compressCCtx(s->zstd_cctx, out, outcap, in, inlen, 3);
        if (ZSTD_isError(zr) || zr >= inlen)
            return -ENOSPC;
        return (long)zr;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return strata_error_set(errp, ENOMEM, "%s: cannot set up zlib", s->name);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)inlen;
    z.next_out = out;
    z.avail_out = (uInt)(outcap < inlen ? outcap : inlen);
    int zr = deflate(&z, Z_FINISH);
    long n = (long)(z.total_out);
    deflateEnd(&z);
    if (zr != Z_STREAM_END || (size_t)n >= inlen)
        return -ENOSPC;
    return n;
}

int qcow2_pwrite_compressed(struct qcow2_state *s, uint64_t off, uint64_t len,
                            const uint8_t *buf, struct strata_error **errp)
{
    uint64_t csz = s->cluster_size;
    if (s->data != s->file || s->crypt_method)
        return qcow2_do_pwrite(s, off, len, buf, 0, errp);
    int r = qcow2_prepare_write(s, errp);
    if (r < 0)
        return r;
    while (len > 0) {
        uint64_t in = off & (csz - 1);
        uint64_t n = csz - in < len ? csz - in : len;
        const uint8_t *src = buf;
        if (in || (n < csz && off + n != s->size)) {
            /* Clusters covered in part are stored plainly. */
            r = qcow2_do_pwrite(s, off, n, buf, 0, errp);
            if (r < 0)
                return r;
            goto next;
        }
        if (n < csz) {
            /* The last cluster of the image: pad with zeros. */
            memset(s->buf, 0, csz);
            memcpy(s->buf, buf, n);
            src = s->buf;
        }
        long clen = qcow2_compress(s, src, csz, s->cbuf, csz, errp);
        if (clen == -ENOSPC) {
            r = qcow2_do_pwrite(s, off, n, buf, 0, errp);
            if (r < 0)
                return r;
            goto next;
        }
        if (clen < 0)
            return (int)clen;
        uint64_t host;
        r = qcow2_alloc_bytes(s, (uint64_t)clen, &host, errp);
        if (r < 0)
            return r;
        qcow2_event(s, STRATA_EV_WRITE_COMPRESSED);
        r = strata_pwrite(s->file, host, (uint64_t)clen, s->cbuf, 0, errp);
        if (r < 0)
            return r;
        struct qcow2_l2ref old;
        r = qcow2_get_l2_entry(s, off, &old, errp);
        if (r < 0)
            return r;
        unsigned x = 62 - (s->cluster_bits - 8);
        uint64_t nsec = ((host + (uint64_t)clen - 1) >> 9) - (host >> 9);
        struct qcow2_l2ref ne = { QCOW2_OFLAG_COMPRESSED | (nsec << x) | host, 0 };
        qcow2_event(s, STRATA_EV_L2_UPDATE_COMPRESSED);
        r = qcow2_set_l2_entry(s, off, &ne, errp);
        if (r < 0)
            return r;
        s->dc_valid = false;
        if ((old.entry & QCOW2_OFLAG_COMPRESSED) ||
            (old.entry & QCOW2_OFFSET_MASK)) {
            r = qcow2_free_entry_later(s, old.entry, errp);
            if (r < 0)
                return r;
        }
next:
        off += n;
        buf += n;
        len -= n;
    }
    return qcow2_apply_pending_frees(s, errp);
}
