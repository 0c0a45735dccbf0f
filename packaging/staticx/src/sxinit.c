/*
 * sxinit: init-style supervision and temporary-directory selection for the
 * staticx bootloader. Added by injector's build (packaging/staticx/); not
 * part of upstream staticx. See packaging/staticx/README.md.
 *
 * Signals: every forwardable signal is blocked from the very start and later
 * collected with sigwaitinfo(), so none is lost while the archive is being
 * extracted, and none is dropped when we are PID 1 (the kernel discards an
 * unhandled signal sent to an init process only when it is not blocked).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include "debug.h"
#include "error.h"
#include "sxinit.h"

/* The bundle path is patched into the program's PT_INTERP and RPATH, whose
 * room staticx reserves (MAX_INTERP_LEN/MAX_RPATH_LEN = 256 in constants.py).
 * Keep the root short enough for "<root>/staticx-XXXXXX/.staticx.interp". */
#define SXINIT_MAX_ROOT_LEN     200

static sigset_t m_forward;      /* signals forwarded to the child */
static sigset_t m_waitset;      /* m_forward plus SIGCHLD */
static sigset_t m_origmask;     /* the mask we were started with */

static bool
is_forwardable(int sig)
{
    return sig != SIGCHLD && sig != SIGKILL && sig != SIGSTOP;
}

void
sxinit_start(const char *argv0)
{
    /* staticx runs the program with the extracted path as argv[0]; keep the
     * name we were invoked under (a symlink's name, too) for the program. */
    if (argv0 && setenv(SXINIT_ARGV0_ENV, argv0, 1) < 0)
        error(2, errno, "Failed to set %s", SXINIT_ARGV0_ENV);

    sigemptyset(&m_forward);
    for (int sig = 1; sig < 32; sig++) {
        if (is_forwardable(sig))
            sigaddset(&m_forward, sig);
    }
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
        sigaddset(&m_forward, sig);

    m_waitset = m_forward;
    sigaddset(&m_waitset, SIGCHLD);

    /* Faults (SIGSEGV...) raised by our own code still kill us: the kernel
     * unblocks a synchronous fault signal that is blocked. */
    if (sigprocmask(SIG_BLOCK, &m_waitset, &m_origmask) < 0)
        error(2, errno, "Failed to block signals");
}

/******************************************************************************/

/* Returns NULL if `root` looks usable, else a short reason. */
static const char *
root_problem(const char *root)
{
    struct statvfs st;

    if (root[0] != '/')
        return "not an absolute path";
    if (strlen(root) > SXINIT_MAX_ROOT_LEN)
        return "path too long";
    if (statvfs(root, &st) < 0)
        return errno == ENOENT ? "missing" : strerror(errno);
    if (st.f_flag & ST_NOEXEC)
        return "mounted noexec";
    if (st.f_flag & ST_RDONLY)
        return "read-only";
    if (access(root, W_OK | X_OK) < 0)
        return "not writable";
    return NULL;
}

static void
save_orig_tmpdir(void)
{
    /* A nested staticx program keeps the value its launcher recorded. */
    if (getenv(SXINIT_ORIG_TMPDIR_ENV))
        return;

    const char *orig = getenv("TMPDIR");
    char *value;
    if (asprintf(&value, "%s%s", orig ? "=" : "-", orig ? orig : "") < 0)
        error(2, 0, "Failed to allocate string");
    if (setenv(SXINIT_ORIG_TMPDIR_ENV, value, 1) < 0)
        error(2, errno, "Failed to set %s", SXINIT_ORIG_TMPDIR_ENV);
    free(value);
}

char *
sxinit_create_tmpdir(void)
{
    static const char * const fixed[] = {
        "/tmp", "/dev/shm", "/run", "/var/tmp", "/dev",
    };
    enum { NFIXED = sizeof(fixed) / sizeof(fixed[0]) };
    const char *cands[1 + NFIXED];
    int ncands = 0;
    char tried[1024] = "";
    size_t used = 0;

    const char *env_tmpdir = getenv("TMPDIR");
    if (env_tmpdir)
        cands[ncands++] = env_tmpdir;
    for (int i = 0; i < NFIXED; i++)
        cands[ncands++] = fixed[i];

    for (int i = 0; i < ncands; i++) {
        const char *root = cands[i];
        const char *why = root_problem(root);
        char *dir = NULL;

        if (!why) {
            if (asprintf(&dir, "%s%sstaticx-XXXXXX", root,
                         root[strlen(root) - 1] == '/' ? "" : "/") < 0)
                error(2, 0, "Failed to allocate string");
            if (mkdtemp(dir)) {
                debug_printf("Using temporary root %s\n", root);
                char *chosen = strdup(root);   /* root may be getenv()'s */
                if (!chosen)
                    error(2, 0, "Failed to allocate string");
                save_orig_tmpdir();
                if (setenv("TMPDIR", chosen, 1) < 0)
                    error(2, errno, "Failed to set TMPDIR");
                free(chosen);
                return dir;
            }
            why = strerror(errno);
            free(dir);
        }

        if (used < sizeof(tried)) {
            int n = snprintf(tried + used, sizeof(tried) - used, "%s%s%s (%s)",
                             used ? ", " : "",
                             (env_tmpdir && i == 0) ? "TMPDIR=" : "", root, why);
            if (n > 0)
                used += (size_t)n;
        }
    }

    error(SXINIT_EXIT_NO_TMPDIR, 0,
          "no usable temporary directory; tried %s; provide a writable, "
          "exec-able directory, e.g. docker run --tmpfs /tmp:exec, or set TMPDIR",
          tried);
    return NULL;
}

/******************************************************************************/

static bool
default_terminates(int sig)
{
    switch (sig) {
        case SIGCHLD: case SIGCONT: case SIGURG: case SIGWINCH:
        case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
            return false;
        default:
            return true;
    }
}

int
sxinit_early_signal(void)
{
    sigset_t pending;
    if (sigpending(&pending) < 0)
        return 0;

    for (int sig = 1; sig <= SIGRTMAX; sig++) {
        if (!sigismember(&m_forward, sig) || !sigismember(&pending, sig))
            continue;
        if (!default_terminates(sig))
            continue;

        /* Ignored when we started (e.g. nohup): the child ignores it too. */
        struct sigaction sa;
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
            continue;

        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, sig);
        struct timespec zero = { 0, 0 };
        if (sigtimedwait(&one, NULL, &zero) == sig) {
            debug_printf("Signal %d arrived before the child started\n", sig);
            return sig;     /* the wait status of a process killed by sig */
        }
    }
    return 0;
}

void
sxinit_child(void)
{
    sigprocmask(SIG_SETMASK, &m_origmask, NULL);
}

int
sxinit_supervise(pid_t child)
{
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&m_waitset, &info);
        if (sig < 0) {
            if (errno == EINTR)
                continue;
            error(2, errno, "sigwaitinfo() failed");
        }

        if (sig != SIGCHLD) {
            debug_printf("Forwarding signal %d to child %d\n", sig, (int)child);
            kill(child, sig);
            continue;
        }

        /* Reap everything that has terminated: our child, and any orphan
         * re-parented to us when we are PID 1 (or a subreaper). */
        bool child_done = false;
        int child_status = 0;
        for (;;) {
            int wstatus;
            pid_t pid = waitpid(-1, &wstatus, WNOHANG);
            if (pid < 0 && errno == EINTR)
                continue;
            if (pid <= 0)
                break;      /* nothing more now, or no children left */
            debug_printf("Reaped %d (wstatus=%d)\n", (int)pid, wstatus);
            if (pid == child) {
                child_done = true;
                child_status = wstatus;
            }
        }
        if (child_done)
            return child_status;
    }
}

int
sxinit_exit_code(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    error(2, 0, "Child exited for unknown reason! (wstatus == %d)", wstatus);
    return 2;
}
