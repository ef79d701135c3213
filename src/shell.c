/* Shell quoting: an argument with nothing the shell treats specially is
 * written as it is (so printed commands stay readable), anything else inside
 * single quotes, with each ' written as '\''. */
#include <stdlib.h>
#include <string.h>
#include "oxvac/shell.h"

static int plain(const char *s)
{
  if (!*s) return 0;
  for (; *s; s++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+-@%", *s)) return 0;
  return 1;
}

int OxShellAppend(char *buf, size_t len, const char *arg)
{
  size_t n = strlen(buf), need = n + (n > 0) + strlen(arg) + 1;
  int    q = !plain(arg);

  if (q) {
    need += 2;
    for (const char *s = arg; *s; s++) need += *s == '\'' ? 3 : 0;
  }
  if (need > len) return -1;
  if (n) buf[n++] = ' ';
  if (q) buf[n++] = '\'';
  for (const char *s = arg; *s; s++) {
    if (q && *s == '\'') {
      memcpy(buf + n, "'\\''", 4);
      n += 4;
    } else buf[n++] = *s;
  }
  if (q) buf[n++] = '\'';
  buf[n] = '\0';
  return 0;
}

char *OxShellJoin(int argc, const char *const *argv)
{
  size_t len = 1;
  char  *s;
  for (int i = 0; i < argc; i++) len += 4 * strlen(argv[i]) + 3;
  if (!(s = calloc(len, 1))) return NULL;
  for (int i = 0; i < argc; i++) OxShellAppend(s, len, argv[i]);
  return s;
}
