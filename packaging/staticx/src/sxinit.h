/*
 * sxinit: init-style supervision and temporary-directory selection for the
 * staticx bootloader. Added by injector's build (packaging/staticx/); not
 * part of upstream staticx. See packaging/staticx/README.md.
 */
#ifndef BOOTLOADER_SXINIT_H
#define BOOTLOADER_SXINIT_H

#include <sys/types.h>

/* Exit code when no candidate temporary directory is usable (EX_CANTCREAT). */
#define SXINIT_EXIT_NO_TMPDIR   73

/* Environment variable holding TMPDIR as it was before the bootloader ran:
 * "=VALUE" if TMPDIR was set (VALUE may be empty), "-" if it was unset. */
#define SXINIT_ORIG_TMPDIR_ENV  "STATICX_ORIG_TMPDIR"

/* The argv[0] the bootloader was invoked with, for the program to read. */
#define SXINIT_ARGV0_ENV        "STATICX_ARGV0"

/* For a PyInstaller onefile program: the caller's working directory (an
 * absolute path), which the app process must chdir() back to and remove.
 * Unset when the launchers keep the working directory. */
#define SXINIT_ORIG_CWD_ENV     "STATICX_ORIG_CWD"

/* First thing in main(): record argv[0] in SXINIT_ARGV0_ENV, and block every
 * forwardable signal and SIGCHLD so that nothing which arrives during
 * extraction is lost. */
void sxinit_start(const char *argv0);

/* Pick the first usable root among $TMPDIR, /tmp, /dev/shm, /run, /var/tmp,
 * /dev, create a private directory in it and return its malloc'd path.
 * Sets TMPDIR to the chosen root and records the original TMPDIR in
 * SXINIT_ORIG_TMPDIR_ENV. Exits SXINIT_EXIT_NO_TMPDIR with one line naming
 * every candidate and why it was rejected when none works. */
char *sxinit_create_tmpdir(void);

/* Once the program is patched, before it runs: tell whether it is a
 * PyInstaller onefile parent (its CArchive cookie ends the "pydata" section
 * or the file). If so, signals go to its child, the app process, and the
 * working directory is handed to the app in SXINIT_ORIG_CWD_ENV while both
 * launchers move to "/". */
void sxinit_before_run(const char *prog_path);

/* Just before fork(): if a signal whose default action terminates a process
 * arrived before the child exists, consume it and return the wait status of
 * a process killed by it (else 0). */
int sxinit_early_signal(void);

/* In the child, between fork() and exec: restore the original signal mask. */
void sxinit_child(void);

/* In the parent: forward signals sent to us to the target (the app process
 * of a PyInstaller program, else the child), never those the kernel sent to
 * our whole process group; follow the target's job-control stops; reap every
 * child (orphans included) and return the wait status of `child` once it has
 * terminated. */
int sxinit_supervise(pid_t child);

/* Wait status -> exit code: the child's code, or 128+n for death by signal n. */
int sxinit_exit_code(int wstatus);

#endif /* BOOTLOADER_SXINIT_H */
