/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* opts_json.c - QEMU's "json:{...}" file names: a JSON object holding a
 * node's options, nested objects for children ("file": {"driver": ...}),
 * flattened into dotted options.  QEMU's own images store backing file
 * names in this form, and its tools take it wherever a file name goes. */
#include "internal.h"
#include "node.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json.h>

#define JSON_PREFIX "json:"

bool strata_is_json_filename(const char *filename)
{
    return filename && strncmp(filename, JSON_PREFIX, strlen(JSON_PREFIX)) == 0;
}

/* Sets every scalar under `prefix` that o does not have yet: options given
 * beside the file name win over the ones inside it. */
static int flatten(struct strata_opts *o, const char *prefix, json_object *j,
                   const char *name, struct strata_error **errp)
{
    char key[512], num[32];
    const char *v = NULL;
    switch (json_object_get_type(j)) {
    case json_type_object: {
        json_object_object_foreach(j, k, child) {
            snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", k);
            int r = flatten(o, key, child, name, errp);
            if (r < 0)
                return r;
        }
        return 0;
    }
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(j); i++) {
            snprintf(key, sizeof key, "%s.%zu", prefix, i);
            int r = flatten(o, key, json_object_array_get_idx(j, i), name, errp);
            if (r < 0)
                return r;
        }
        return 0;
    case json_type_boolean:
        v = json_object_get_boolean(j) ? "on" : "off";
        break;
    case json_type_int:
        snprintf(num, sizeof num, "%" PRId64, json_object_get_int64(j));
        v = num;
        break;
    case json_type_double:
        snprintf(num, sizeof num, "%.17g", json_object_get_double(j));
        v = num;
        break;
    case json_type_string:
        v = json_object_get_string(j);
        break;
    case json_type_null:
        /* as QEMU's dotted form writes it: "backing": null is backing=null,
         * no backing file */
        v = "null";
        break;
    }
    if (!*prefix)
        return strata_error_set(errp, EINVAL, "%s: the JSON is not an object", name);
    return strata_opts_get(o, prefix) ? 0 : strata_opts_set(o, prefix, v);
}

int strata_opts_merge_json(struct strata_opts *o, const char *filename,
                           struct strata_error **errp)
{
    const char *text = filename + strlen(JSON_PREFIX);
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return strata_error_set(errp, ENOMEM, "out of memory");
    json_object *root = json_tokener_parse_ex(tok, text, (int)strlen(text));
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (text[used] == ' ' || text[used] == '\t' || text[used] == '\n')
        used++;
    int r;
    if (!root || jerr != json_tokener_success || text[used])
        /* qemu's words, which the tool puts after "Could not open 'NAME'" */
        r = strata_error_set(errp, EINVAL, "Could not parse the JSON options: JSON parse "
                             "error, %s", jerr == json_tokener_continue ? "premature EOI"
                                          : root ? "text after the object"
                                                 : json_tokener_error_desc(jerr));
    else if (!json_object_is_type(root, json_type_object))
        r = strata_error_set(errp, EINVAL, "Invalid JSON object given");
    else
        r = flatten(o, "", root, "json: file name", errp);
    json_object_put(root);
    return r;
}
