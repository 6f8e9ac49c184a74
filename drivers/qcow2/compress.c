/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* compress.c - the codecs of compressed clusters: zlib (raw deflate, as
 * qcow2 has always used) and zstd (compression_type=1), buffer to buffer.
 * Compressed data is packed at byte granularity and a descriptor counts
 * whole 512-byte sectors, so the input of decompression may carry trailing
 * bytes of a neighbour, which it ignores. */
#include "qcow2.h"

#include <errno.h>
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

static int zlib_decompress(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen,
                           struct strata_error **errp)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return strata_error_set(errp, ENOMEM, "cannot set up zlib");
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

static int zstd_decompress(struct qcow2_codec *c, const uint8_t *in, size_t inlen,
                           uint8_t *out, size_t outlen, struct strata_error **errp)
{
    if (!c->zstd_dctx && !(c->zstd_dctx = ZSTD_createDCtx()))
        return strata_error_set(errp, ENOMEM, "cannot set up zstd");
    ZSTD_DCtx *d = c->zstd_dctx;
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

int qcow2_decompress(struct qcow2_codec *c, uint8_t type, const uint8_t *in, size_t inlen,
                     uint8_t *out, size_t outlen, struct strata_error **errp)
{
    if (type == QCOW2_COMPRESS_ZSTD)
        return zstd_decompress(c, in, inlen, out, outlen, errp);
    return zlib_decompress(in, inlen, out, outlen, errp);
}

long qcow2_compress(struct qcow2_codec *c, uint8_t type, const uint8_t *in, size_t inlen,
                    uint8_t *out, size_t outcap, struct strata_error **errp)
{
    if (type == QCOW2_COMPRESS_ZSTD) {
        if (!c->zstd_cctx && !(c->zstd_cctx = ZSTD_createCCtx()))
            return strata_error_set(errp, ENOMEM, "cannot set up zstd");
        size_t zr = ZSTD_compressCCtx(c->zstd_cctx, out, outcap, in, inlen, 3);
        if (ZSTD_isError(zr) || zr >= inlen)
            return -ENOSPC;
        return (long)zr;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return strata_error_set(errp, ENOMEM, "cannot set up zlib");
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

struct qcow2_codec *qcow2_codec_get(struct qcow2_state *s)
{
    pthread_mutex_lock(&s->dc_mu);
    struct qcow2_codec *c = s->codecs;
    if (c)
        s->codecs = c->next;
    pthread_mutex_unlock(&s->dc_mu);
    return c ? c : calloc(1, sizeof *c);
}

void qcow2_codec_put(struct qcow2_state *s, struct qcow2_codec *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&s->dc_mu);
    c->next = s->codecs;
    s->codecs = c;
    pthread_mutex_unlock(&s->dc_mu);
}

void qcow2_codecs_free(struct qcow2_state *s)
{
    while (s->codecs) {
        struct qcow2_codec *c = s->codecs;
        s->codecs = c->next;
        if (c->zstd_dctx)
            ZSTD_freeDCtx(c->zstd_dctx);
        if (c->zstd_cctx)
            ZSTD_freeCCtx(c->zstd_cctx);
        free(c);
    }
}
