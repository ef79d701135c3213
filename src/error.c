/* The one form of an input-error line (error.h). */
#include "oxvac/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static OxInputErrorWhere last;

static const char cut_mark[] = " [cut]";

/* Put msg (length n) into err: whole when it fits, else its head and its
 * "; expected ..." tail with the cut marked; then one printable line. */
static void fit(char *err, size_t errlen, const char *msg, size_t n)
{
  const char *tail = NULL;
  size_t      room = errlen - 1, keep, tl;

  if (n <= room) memcpy(err, msg, n + 1);
  else {
    for (const char *p = strstr(msg, "; expected"); p; p = strstr(p + 1, "; expected")) tail = p;
    tl = tail ? strlen(tail) : 0;
    if (!tail || tl + sizeof(cut_mark) - 1 > room / 2) { /* no expectation, or one too long to keep whole */
      keep = room > sizeof(cut_mark) - 1 ? room - (sizeof(cut_mark) - 1) : 0;
      memcpy(err, msg, keep);
      snprintf(err + keep, errlen - keep, "%s", cut_mark);
    } else {
      keep = room - tl - (sizeof(cut_mark) - 1);
      memcpy(err, msg, keep);
      memcpy(err + keep, cut_mark, sizeof(cut_mark) - 1);
      memcpy(err + keep + sizeof(cut_mark) - 1, tail, tl + 1);
    }
  }
  for (char *p = err; *p; p++)
    if (iscntrl((unsigned char)*p)) *p = '?';
}

/* vsnprintf into a malloc'd string (NULL when out of memory). */
static char *vformat(const char *fmt, va_list ap, size_t *len)
{
  va_list aq;
  int     n;
  char   *s;

  va_copy(aq, ap);
  n = vsnprintf(NULL, 0, fmt, aq);
  va_end(aq);
  if (n < 0 || !(s = malloc((size_t)n + 1))) return NULL;
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  *len = (size_t)n;
  return s;
}

int OxInputErrorV(char *err, size_t errlen, const char *file, int line, const char *key, const char *fmt, va_list ap)
{
  char   head[sizeof(last.file) + sizeof(last.key) + 32];
  size_t wl = 0, hl;
  char  *what = vformat(fmt, ap, &wl), *msg;

  memset(&last, 0, sizeof(last));
  last.set  = 1;
  last.line = line;
  snprintf(last.file, sizeof(last.file), "%s", file ? file : "?");
  snprintf(last.key, sizeof(last.key), "%s", key ? key : "");
  snprintf(head, sizeof(head), "%s:%d: ", last.file, line);
  last.location = strlen(head);
  if (key) snprintf(head + last.location, sizeof(head) - last.location, "key '%s': ", last.key);
  hl = strlen(head);
  if (!err || !errlen) {
    free(what);
    return 2;
  }
  msg = malloc(hl + wl + 1);
  if (!what || !msg) snprintf(err, errlen, "%sout of memory formatting this message", head);
  else {
    memcpy(msg, head, hl);
    memcpy(msg + hl, what, wl + 1);
    fit(err, errlen, msg, hl + wl);
  }
  free(msg);
  free(what);
  return 2;
}

int OxInputError(char *err, size_t errlen, const char *file, int line, const char *key, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  OxInputErrorV(err, errlen, file, line, key, fmt, ap);
  va_end(ap);
  return 2;
}

int OxInputErrorFitV(char *err, size_t errlen, const char *fmt, va_list ap)
{
  size_t n = 0;
  char  *msg;

  if (!err || !errlen) return 2;
  msg = vformat(fmt, ap, &n);
  if (msg) fit(err, errlen, msg, n);
  else snprintf(err, errlen, "out of memory formatting an error message");
  free(msg);
  return 2;
}

int OxInputErrorFit(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  OxInputErrorFitV(err, errlen, fmt, ap);
  va_end(ap);
  return 2;
}

const OxInputErrorWhere *OxInputErrorLast(void) { return &last; }

void OxInputErrorForget(void) { memset(&last, 0, sizeof(last)); }

void OxInputErrorRestore(const OxInputErrorWhere *w) { last = *w; }
