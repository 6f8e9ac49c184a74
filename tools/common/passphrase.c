/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passphrase.c - keys that no --object names: --key-file, and a passphrase
 * typed at the terminal without echo, as cryptsetup asks for it. */
#include "tool.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* cryptsetup's limit for a typed passphrase. */
#define PASS_MAX 512

/* Secret ids the tools define themselves; '%' keeps them apart from the
 * ids a user gives with --object. */
#define KEY_FILE_ID "%key-file"

static const char *key_file;
static bool key_file_loaded;
static unsigned n_typed;

void tool_set_key_file(const char *path)
{
    key_file = path;
    key_file_loaded = false;
}

bool tool_key_file_given(void)
{
    return key_file != NULL;
}

bool tool_can_prompt(void)
{
    return isatty(STDIN_FILENO);
}

/* The terminal settings to put back when Ctrl-C or a kill interrupts the
 * prompt, so that the shell is not left without echo. */
static struct termios saved_tty;

static void restore_tty_and_die(int sig)
{
    tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads one line from the terminal on stdin with echo off; the newline is
 * not part of the passphrase (as cryptsetup reads a typed one). */
static int read_line_noecho(const char *prompt, uint8_t *buf, size_t *lenp,
                            struct strata_error **errp)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    struct sigaction sa = { .sa_handler = restore_tty_and_die }, prev[4];
    struct termios old, quiet;
    bool restore = tcgetattr(STDIN_FILENO, &old) == 0;
    if (restore) {
        saved_tty = old;
        for (int i = 0; i < 4; i++)
            sigaction(sigs[i], &sa, &prev[i]);
        quiet = old;
        quiet.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    fflush(stdout);
    fputs(prompt, stderr);
    fflush(stderr);
    size_t len = 0;
    int ret = 0;
    for (;;) {
        char ch;
        ssize_t n = read(STDIN_FILENO, &ch, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ret = strata_error_set(errp, errno, "cannot read the passphrase: %s",
                                   strerror(errno));
            break;
        }
        if (n == 0) {
            if (len == 0)
                ret = strata_error_set(errp, ENODATA, "no passphrase was entered");
            break;
        }
        if (ch == '\n')
            break;
        if (len == PASS_MAX) {
            ret = strata_error_set(errp, E2BIG, "the passphrase is longer than %d "
                                   "characters", PASS_MAX);
            break;
        }
        buf[len++] = (uint8_t)ch;
        ch = 0;
    }
    if (restore) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        for (int i = 0; i < 4; i++)
            sigaction(sigs[i], &prev[i], NULL);
    }
    fputc('\n', stderr);
    *lenp = len;
    return ret;
}

int tool_prompt_secret(const char *prompt, bool verify, char *id, size_t idlen,
                       struct strata_error **errp)
{
    if (!tool_can_prompt())
        return strata_error_set(errp, ENOKEY, "no key was given and stdin is not a "
                                "terminal to ask for one (give --key-file FILE, or "
                                "--object secret,... and key-secret=ID)");
    uint8_t *a = strata_secure_alloc(PASS_MAX), *b = strata_secure_alloc(PASS_MAX);
    int ret;
    if (!a || !b) {
        ret = strata_error_set(errp, ENOMEM, "out of secure memory");
        goto out;
    }
    size_t alen = 0, blen = 0;
    ret = read_line_noecho(prompt, a, &alen, errp);
    if (ret == 0 && verify) {
        ret = read_line_noecho("Verify passphrase: ", b, &blen, errp);
        if (ret == 0 && (alen != blen || memcmp(a, b, alen) != 0))
            ret = strata_error_set(errp, EINVAL, "Passphrases do not match.");
    }
    if (ret == 0) {
        snprintf(id, idlen, "%%typed-%u", n_typed++);
        ret = strata_secret_add(id, a, alen, errp);
    }
out:
    strata_secure_free(a, PASS_MAX);
    strata_secure_free(b, PASS_MAX);
    return ret;
}

int tool_supply_key(const char *what, bool verify, char *id, size_t idlen,
                    struct strata_error **errp)
{
    if (key_file) {
        if (!key_file_loaded) {
            const char *path = strcmp(key_file, "-") == 0 ? "/dev/stdin" : key_file;
            int ret = strata_secret_add_file(KEY_FILE_ID, path, errp);
            if (ret < 0)
                return ret;
            key_file_loaded = true;
        }
        snprintf(id, idlen, "%s", KEY_FILE_ID);
        return 0;
    }
    /* Opening the same image again (another key slot, a second argument
     * naming it) does not ask again. */
    static char last_what[512], last_id[32];
    if (!verify && last_id[0] && strcmp(what, last_what) == 0) {
        snprintf(id, idlen, "%s", last_id);
        return 0;
    }
    char prompt[600];
    snprintf(prompt, sizeof prompt, "Enter passphrase for %s: ", what);
    int ret = tool_prompt_secret(prompt, verify, id, idlen, errp);
    if (ret == 0 && !verify) {
        snprintf(last_what, sizeof last_what, "%s", what);
        snprintf(last_id, sizeof last_id, "%s", id);
    }
    return ret;
}
