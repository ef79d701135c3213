/**
 * @file shell.h
 * @brief Commands as text a POSIX shell reads back as the same arguments.
 *
 * Owns: quoting one argument and joining argument lists, for the commands
 * oxvac prints (restart hints, a sweep point's command) and writes (SLURM
 * job scripts). Plain C.
 */
#ifndef OXVAC_SHELL_H
#define OXVAC_SHELL_H

#include <stddef.h>

/** @brief Append arg to buf (NUL-terminated, capacity len), quoted when the shell would split or expand it. @return 0, or -1 when it does not fit. */
int OxShellAppend(char *buf, size_t len, const char *arg);

/** @brief argv[0..argc-1] quoted and joined by spaces; malloc'd (free it), NULL without memory. */
char *OxShellJoin(int argc, const char *const *argv);

#endif
