/* The input-error formatter (src/error.c): the form, the cut that keeps
 * "; expected ...", control characters, and the record of where. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "oxvac/error.h"

int main(void)
{
  char  buf[1024], small[64];
  char *big = malloc(5000);
  memset(big, 'x', 4999);
  big[4999] = '\0';

  /* the plain form, recorded */
  OxInputErrorForget();
  CHECK(!OxInputErrorLast()->set, "forgotten");
  CHECK(OxInputError(buf, sizeof buf, "a.cfg", 7, "grid.voxel_nm", "%g is negative; expected a length > 0", -1.0) == 2, "returns 2");
  CHECK(!strcmp(buf, "a.cfg:7: key 'grid.voxel_nm': -1 is negative; expected a length > 0"), "form: %s", buf);
  CHECK(OxInputErrorLast()->set && OxInputErrorLast()->line == 7 && !strcmp(OxInputErrorLast()->key, "grid.voxel_nm") &&
          !strcmp(OxInputErrorLast()->file, "a.cfg") && OxInputErrorLast()->location == strlen("a.cfg:7: "),
        "record: %s:%d %s %zu", OxInputErrorLast()->file, OxInputErrorLast()->line, OxInputErrorLast()->key, OxInputErrorLast()->location);

  /* without a key */
  OxInputError(buf, sizeof buf, "b.cfg", 3, NULL, "syntax error: %s; expected valid libconfig syntax", "syntax error");
  CHECK(!strcmp(buf, "b.cfg:3: syntax error: syntax error; expected valid libconfig syntax"), "no key: %s", buf);
  CHECK(OxInputErrorLast()->key[0] == '\0', "no key recorded");

  /* a long value: cut in the middle, the expectation whole, within the buffer */
  OxInputError(buf, sizeof buf, "c.cfg", 2, "microstructure.type", "unknown value \"%s\"; expected one of \"sphere\", \"generated\", \"import\"", big);
  CHECK(strlen(buf) == sizeof buf - 1, "fills the buffer: %zu", strlen(buf));
  CHECK(!strncmp(buf, "c.cfg:2: key 'microstructure.type': unknown value \"xxx", 54), "head kept: %.60s", buf);
  {
    const char *tail = " [cut]; expected one of \"sphere\", \"generated\", \"import\"";
    CHECK(strlen(buf) > strlen(tail) && !strcmp(buf + strlen(buf) - strlen(tail), tail), "expectation kept: ...%s", buf + strlen(buf) - 80);
  }

  /* an expectation too long to keep whole: a plain cut, marked */
  OxInputError(small, sizeof small, "d.cfg", 1, "k", "bad; expected %s", big);
  CHECK(strlen(small) == sizeof small - 1 && !strcmp(small + strlen(small) - 6, " [cut]"), "long expectation: %s", small);

  /* control characters never reach a message */
  OxInputError(buf, sizeof buf, "e.cfg", 1, "k", "value \"a\rb\tc\n\"; expected %s", "plain text");
  CHECK(!strchr(buf, '\r') && !strchr(buf, '\t') && !strchr(buf, '\n') && strstr(buf, "a?b?c?"), "control characters: %s", buf);

  /* a whole line built elsewhere gets the same cut */
  OxInputErrorFit(buf, sizeof buf, "m.csv:4: key 'sigma': %s is not a number; expected a standard deviation >= 1e-12", big);
  CHECK(strstr(buf, " [cut]; expected a standard deviation >= 1e-12") && strlen(buf) == sizeof buf - 1, "fit: %.40s", buf);
  CHECK(OxInputError(NULL, 0, "f.cfg", 1, "k", "x; expected y") == 2 && OxInputErrorLast()->line == 1, "NULL buffer: recorded");

  free(big);
  if (failures) fprintf(stderr, "test_error: %d failures\n", failures);
  else printf("test_error: PASSED\n");
  return failures != 0;
}
