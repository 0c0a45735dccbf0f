/*
 * sxinit: init-style supervision and temporary-directory selection for the
 * staticx bootloader. Added by injector's build (packaging/staticx/); not
 * part of upstream staticx. See packaging/staticx/README.md.
 *
 * Signals: every forwardable signal is blocked from the very start and later
 * collected with sigwaitinfo(), so none is lost while the archive is being
 * extracted, and none is dropped when we are PID 1 (the kernel discards an
 * unhandled signal sent to an init process only when it is not blocked).
 *
 * With a PyInstaller onefile program (built with bootloader_ignore_signals,
 * so that its parent drops what it gets) signals go straight to the app
 * process, its child; a onedir one (injector's build) is the app process
 * itself. All processes stay in the caller's process group: the
 * terminal's own signals reach every one of them, so those are never
 * forwarded. See docs/pid1.md in injector.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include "debug.h"
#include "elfutil.h"
#include "error.h"
#include "mmap.h"
#include "sxinit.h"

/* The bundle path is patched into the program's PT_INTERP and RPATH, whose
 * room staticx reserves (MAX_INTERP_LEN/MAX_RPATH_LEN = 256 in constants.py).
 * Keep the root short enough for "<root>/staticx-XXXXXX/.staticx.interp". */
#define SXINIT_MAX_ROOT_LEN     200

static sigset_t m_forward;      /* signals forwarded to the child */
static sigset_t m_waitset;      /* m_forward plus SIGCHLD */
static sigset_t m_origmask;     /* the mask we were started with */

/* How long a job-control stop waits for the target to stop, polling. */
#define SXINIT_STOP_WAIT_S      2
#define SXINIT_STOP_TICK_NS     (10 * 1000 * 1000)

/* PyInstaller's CArchive cookie: magic, then 4 x uint32 and a 64-byte name. */
#define PYI_COOKIE_MAGIC        "MEI\014\013\012\013\016"
#define PYI_COOKIE_LEN          (8 + 4 * 4 + 64)
/* The signature a bootloader built with EXE(append_pkg=False) carries in its
 * "pydata" section instead of the archive: it then reads <itself>.pkg. */
#define PYI_SIDELOAD_MAGIC      "MEI\015\013\012\013\016"
#define PYI_SIDELOAD_LEN        8

/* A PKG TOC entry: entry_len, offset, length, ulen (uint32 BE), flag, type. */
#define PYI_TOC_ENTRY_LEN       (4 * 4 + 2)
/* The entry types a onefile bootloader extracts (binary, data, zip file,
 * symlink, dependency); a onedir PKG has none: its files are on disk. */
#define PYI_EXTRACTED_TYPES     "bxZld"

static bool m_chain;            /* the child is a PyInstaller onefile parent */
static bool m_stopped;          /* we stopped ourselves with the target */
static int m_stop_sig;          /* a stop is pending: waiting for the target */
static struct timespec m_stop_deadline;

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

/******************************************************************************/

static bool
cookie_ends_at(const struct map *map, size_t end)
{
    return end >= PYI_COOKIE_LEN && end <= map->size &&
        memcmp((const char *)map->map + end - PYI_COOKIE_LEN,
               PYI_COOKIE_MAGIC, 8) == 0;
}

static uint32_t
be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Whether the PKG whose cookie ends at `end` lists a file for the bootloader
 * to extract: a onefile program, which runs the app as its child. A onedir
 * one runs it in its own process. Anything unreadable counts as onefile. */
static bool
pkg_extracts(const struct map *map, size_t end)
{
    const unsigned char *base = map->map, *cookie = base + end - PYI_COOKIE_LEN;
    uint32_t pkg_len = be32(cookie + 8), toc_off = be32(cookie + 12);
    uint32_t toc_len = be32(cookie + 16);

    if (pkg_len > end || toc_off > pkg_len || toc_len > pkg_len - toc_off)
        return true;
    const unsigned char *toc = base + (end - pkg_len) + toc_off;
    const unsigned char *stop = toc + toc_len;
    while ((size_t)(stop - toc) >= PYI_TOC_ENTRY_LEN) {
        uint32_t entry_len = be32(toc);
        char type = (char)toc[PYI_TOC_ENTRY_LEN - 1];
        if (entry_len < PYI_TOC_ENTRY_LEN || entry_len > (size_t)(stop - toc))
            return true;
        if (type != '\0' && strchr(PYI_EXTRACTED_TYPES, type))
            return true;
        toc += entry_len;
    }
    return false;
}

/* The same for the PKG at the end of this very file (side-loaded). */
static bool
self_pkg_extracts(void)
{
    struct map *map = mmap_file("/proc/self/exe", true);
    bool extracts = !cookie_ends_at(map, map->size) || pkg_extracts(map, map->size);
    unmap_file(map);
    return extracts;
}

static bool proc_usable(void);

/* Whether this very file (the staticx program) ends with a PyInstaller
 * cookie: staticx appended the program's side-loaded PKG to it. Its inode
 * in *self when it does. */
static bool
self_ends_with_cookie(struct stat *self)
{
    char tail[PYI_COOKIE_LEN];
    bool found = false;
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return false;
    if (fstat(fd, self) == 0 && self->st_size >= PYI_COOKIE_LEN &&
        pread(fd, tail, sizeof(tail), self->st_size - PYI_COOKIE_LEN) == PYI_COOKIE_LEN)
        found = memcmp(tail, PYI_COOKIE_MAGIC, 8) == 0;
    close(fd);
    return found;
}

/* /proc/<our pid>/exe leads to this very file for other processes too. Not
 * so under qemu-user, which shows the guest its own file only through
 * /proc/self/exe (/proc/<pid>/exe is the emulator there). */
static bool
pid_link_usable(const char *target, const struct stat *self)
{
    struct stat st;
    return proc_usable() && stat(target, &st) == 0 &&
        st.st_dev == self->st_dev && st.st_ino == self->st_ino;
}

/* The PKG is read in place from this file instead of being extracted with
 * the program (~16 MB fewer bytes written per start): <prog>.pkg becomes a
 * link to /proc/<our pid>/exe, which stays this very file for as long as we
 * live (even if it is replaced or deleted meanwhile), or, without a /proc of
 * our own pid namespace (or under qemu-user), to its path. */
static bool
link_sideloaded_pkg(const char *prog_path)
{
    char target[64], *link = NULL, *path = NULL;
    struct stat self;
    bool done = false;

    if (!self_ends_with_cookie(&self))
        return false;
    snprintf(target, sizeof(target), "/proc/%d/exe", (int)getpid());
    if (!pid_link_usable(target, &self) && !(path = realpath("/proc/self/exe", NULL)))
        return false;
    if (asprintf(&link, "%s.pkg", prog_path) >= 0) {
        done = symlink(path ? path : target, link) == 0;
        if (!done)
            error(2, errno, "Failed to link %s", link);
    }
    debug_printf("Side-loaded PKG: %s -> %s\n", link, path ? path : target);
    free(link);
    free(path);
    return done;
}

/* PyInstaller >= 6 keeps its archive in an ELF section "pydata", older ones
 * append it to the file; either way the cookie is the archive's last part.
 * A program built with append_pkg=False has the side-load signature there,
 * and its PKG is appended to this file (patch 0008). Whether it is a
 * PyInstaller program at all; whether a onefile one in *onefile. */
static bool
is_pyinstaller(const char *prog_path, bool *onefile)
{
    struct map *map = mmap_file(prog_path, true);
    Elf_Ehdr *ehdr = map->map;
    bool found = false, sideload = false;
    size_t end = map->size;

    if (map->size >= sizeof(*ehdr) && elf_is_valid(ehdr)) {
        Elf_Shdr *sh = elf_get_section_by_name(ehdr, "pydata");
        end = sh ? sh->sh_offset + sh->sh_size : map->size;
        if (sh)
            found = cookie_ends_at(map, end);
        sideload = sh && !found && end >= PYI_SIDELOAD_LEN && end <= map->size &&
            memcmp((const char *)map->map + end - PYI_SIDELOAD_LEN,
                   PYI_SIDELOAD_MAGIC, PYI_SIDELOAD_LEN) == 0;
    }
    if (!found && !sideload) {
        end = map->size;
        found = cookie_ends_at(map, end);
    }
    *onefile = found && pkg_extracts(map, end);
    unmap_file(map);
    if (sideload && (found = link_sideloaded_pkg(prog_path)))
        *onefile = self_pkg_extracts();
    return found;
}

/* Hand the working directory to the app process, if it can get back to it
 * by its path (not deleted, not outside our root, same directory). */
static void
leave_cwd(void)
{
    char *cwd = getcwd(NULL, 0);
    struct stat here, there;

    if (cwd && cwd[0] == '/' && strcmp(cwd, "/") != 0 &&
        stat(".", &here) == 0 && stat(cwd, &there) == 0 &&
        here.st_dev == there.st_dev && here.st_ino == there.st_ino) {
        if (setenv(SXINIT_ORIG_CWD_ENV, cwd, 1) < 0)
            error(2, errno, "Failed to set %s", SXINIT_ORIG_CWD_ENV);
        if (chdir("/") < 0)
            unsetenv(SXINIT_ORIG_CWD_ENV);
    }
    free(cwd);
}

void
sxinit_before_run(const char *prog_path)
{
    unsetenv(SXINIT_ORIG_CWD_ENV);      /* only ever our own value */
    bool pyinstaller = is_pyinstaller(prog_path, &m_chain);
    debug_printf("PyInstaller program: %s\n",
                 !pyinstaller ? "no" : m_chain ? "onefile" : "onedir");
    if (pyinstaller)
        leave_cwd();
}

/******************************************************************************/

/* /proc is ours when it shows our own pid namespace. */
static bool
proc_usable(void)
{
    char buf[32];
    ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    return strtol(buf, NULL, 10) == (long)getpid();
}

/* State letter of `pid` from /proc/PID/stat (0 if unreadable); its parent
 * in *ppid when asked. */
static char
proc_state(pid_t pid, pid_t *ppid)
{
    char path[64], buf[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';

    char *p = strrchr(buf, ')');    /* the name may contain anything */
    char state;
    int parent;
    if (!p || sscanf(p + 1, " %c %d", &state, &parent) != 2)
        return 0;
    if (ppid)
        *ppid = parent;
    return state;
}

static pid_t
scan_for_child(pid_t parent)
{
    DIR *dir = opendir("/proc");
    pid_t found = 0;
    struct dirent *de;

    while (dir && !found && (de = readdir(dir)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        pid_t ppid = 0;
        if (*end == '\0' && pid > 0 && proc_state(pid, &ppid) && ppid == parent)
            found = pid;
    }
    if (dir)
        closedir(dir);
    return found;
}

/* The app process: the only child of the PyInstaller parent, once started
 * (0 before, after, or when /proc cannot tell). */
static pid_t
find_app(pid_t launcher)
{
    if (!m_chain || !proc_usable())
        return 0;

    char path[64], buf[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
             (int)launcher, (int)launcher);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)     /* kernel without CONFIG_PROC_CHILDREN */
        return scan_for_child(launcher);
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return (pid_t)strtol(buf, NULL, 10);
}

/* The process whose signals and stops matter: the app, else our child. */
static pid_t
target_of(pid_t child)
{
    pid_t app = find_app(child);
    return app > 0 ? app : child;
}

static bool
in_our_group(pid_t pid)
{
    pid_t pgid = getpgid(pid);
    return pgid >= 0 && pgid == getpgrp();
}

/* Did the kernel send this signal to our whole process group, so that every
 * process still in it (the target too) has its own copy? The terminal's
 * INT, QUIT, TSTP and WINCH go to its foreground group, TTIN/TTOU to the
 * group of the process that touched it; both arrive with si_code SI_KERNEL.
 * Only a terminal hangup signals a session leader alone (HUP and CONT).
 * Anything sent with kill(), sigqueue() or tgkill() has si_code <= 0. */
static bool
sent_to_group(int sig, const siginfo_t *info)
{
    if (info->si_code <= 0)
        return false;
    if ((sig == SIGHUP || sig == SIGCONT) && getsid(0) == getpid())
        return false;
    return true;
}

static void
deliver(pid_t child, int sig)
{
    pid_t app = find_app(child);
    if (app > 0) {
        debug_printf("Forwarding signal %d to app %d\n", sig, (int)app);
        kill(app, sig);
        return;
    }
    debug_printf("Forwarding signal %d to child %d\n", sig, (int)child);
    kill(child, sig);
    /* The app may have been started meanwhile; then its parent dropped our
     * copy (it never forwards), so the app still needs one. */
    app = find_app(child);
    if (app > 0)
        kill(app, sig);
}

/******************************************************************************/

static bool
is_stop_signal(int sig)
{
    return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Continue the launcher (it drops the signal, the kernel continues it) and,
 * if nobody else did, the target. */
static void
resume(pid_t child, const siginfo_t *info, bool after_our_stop)
{
    pid_t target = target_of(child);
    if (target != child)
        kill(child, SIGCONT);
    if (sent_to_group(SIGCONT, info))
        return;
    /* After a job stop, the shell's fg/bg continued the whole group, the
     * target included, before we could see it. */
    char state = proc_state(target, NULL);
    if (after_our_stop && in_our_group(target) && state && state != 'T')
        return;
    kill(target, SIGCONT);
}

/* The target has stopped: stop the launcher and ourselves with the same
 * signal, so that the parent shell sees the job stopped as it would for the
 * target alone. */
static void
stop_chain(pid_t child, int sig)
{
    debug_printf("Target stopped (signal %d); stopping\n", sig);
    if (target_of(child) != child)
        kill(child, SIGSTOP);   /* it drops TTIN/TTOU, and kill()ed TSTP never reached it */

    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);                 /* stops here until SIGCONT */
    sigprocmask(SIG_BLOCK, &one, NULL);

    /* A SIGCONT woke us (it stays pending: blocked). Without one, the kernel
     * discarded the stop: we are PID 1 or our process group is orphaned, so
     * nobody could ever continue the job. Continue it now instead. */
    sigset_t pending;
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGCONT)) {
        m_stopped = true;
        return;
    }
    siginfo_t none = { .si_code = SI_USER };
    resume(child, &none, false);
}

static void
begin_stop(int sig)
{
    m_stop_sig = sig;
    clock_gettime(CLOCK_MONOTONIC, &m_stop_deadline);
    m_stop_deadline.tv_sec += SXINIT_STOP_WAIT_S;
}

/* A stop is pending: has the target stopped, or did it keep running (it
 * handles or ignores the signal) until the deadline? */
static void
check_stop(pid_t child)
{
    pid_t target = target_of(child);
    char state = proc_usable() ? proc_state(target, NULL) : 'T';
    if (state == 'T') {
        int sig = m_stop_sig;
        m_stop_sig = 0;
        stop_chain(child, sig);
        return;
    }

    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    bool expired = now.tv_sec > m_stop_deadline.tv_sec ||
        (now.tv_sec == m_stop_deadline.tv_sec &&
         now.tv_nsec >= m_stop_deadline.tv_nsec);
    if (state && state != 'Z' && !expired)
        return;     /* still running: look again at the next tick */
    debug_printf("Target did not stop; not stopping\n");
    m_stop_sig = 0;
    if (target != child)
        kill(child, SIGCONT);   /* a terminal's TSTP stopped the launcher */
}

static void
handle_signal(pid_t child, int sig, const siginfo_t *info)
{
    if (sig == SIGCONT) {
        bool after_our_stop = m_stopped;
        m_stopped = false;
        m_stop_sig = 0;
        resume(child, info, after_our_stop);
        return;
    }
    if (!sent_to_group(sig, info)) {
        deliver(child, sig);
    } else {
        debug_printf("Signal %d was sent to our process group\n", sig);
    }

    if (is_stop_signal(sig) && !m_stop_sig) {
        m_stopped = false;      /* a stop signal discards a pending SIGCONT */
        begin_stop(sig);
        check_stop(child);
    }
}

static int
wait_signal(siginfo_t *info)
{
    for (;;) {
        int sig;
        if (m_stop_sig) {
            struct timespec tick = { 0, SXINIT_STOP_TICK_NS };
            sig = sigtimedwait(&m_waitset, info, &tick);
        } else {
            sig = sigwaitinfo(&m_waitset, info);
        }
        if (sig >= 0 || errno == EAGAIN)
            return sig;
        if (errno != EINTR)
            error(2, errno, "sigwaitinfo() failed");
    }
}

int
sxinit_supervise(pid_t child)
{
    /* Only the program keeps the working directory. */
    if (chdir("/") < 0) {
        debug_printf("chdir(\"/\") failed: %s\n", strerror(errno));
    }

    for (;;) {
        siginfo_t info;
        int sig = wait_signal(&info);
        if (sig < 0) {          /* a tick while a stop is pending */
            check_stop(child);
            continue;
        }

        if (sig != SIGCHLD) {
            handle_signal(child, sig, &info);
            continue;
        }

        /* Reap everything that has terminated: our child, and any orphan
         * re-parented to us when we are PID 1 (or a subreaper). Stopped or
         * continued children are not reported (no WUNTRACED/WCONTINUED). */
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
