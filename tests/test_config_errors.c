/**
 * @file test_config_errors.c
 * @brief Every bad config is refused with status 2 and one message of the
 *        contract's form `FILE:LINE: key 'a.b': what is wrong; what is expected`
 *        that says what its first line promises.
 *
 * Usage: test_config_errors BAD_DIR (tests/bad_inputs, the corpus of
 * tests/bad_inputs/README.md). Each BAD_DIR/NAME.cfg has a header among its
 * leading comment lines, or in NAME.cfg.expect beside it where that exists:
 * `# expect: <text the message must contain>`, and optionally `# stage: ...`
 * and `# known-defect: ...`. Only the cases of stage `config` (the default),
 * those the config module itself refuses, are loaded here; the others are
 * for the commands (tests/test_bad_inputs.py). A file that libconfig cannot
 * parse has no key to name: its message is `FILE:LINE: syntax error: ...; ...`.
 * An expectation that starts with `NAME.inc:` is about a file the case
 * @includes from its folder: the message starts with that file's path instead.
 * Prints nothing and exits 0 on success; prints each failure and exits 1.
 */
#define _XOPEN_SOURCE 700 /* dirent */

#include "oxvac/config.h"

#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CASES 50 /* an empty or wrong folder must not pass */

static int CompareNames(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/** The header of the case at path (from path.expect where that exists): the
 * text after "# expect: " into out; *skip set for a case that is not the
 * config module's (a stage other than config) or a known defect. 0 when the
 * header has a non-empty expectation. */
static int ReadExpect(const char *path, char *out, size_t len, int *skip)
{
  static const char prefix[] = "# expect: ", stage[] = "# stage: ", known[] = "# known-defect:";
  char line[1024], side[4200];
  snprintf(side, sizeof side, "%s.expect", path);
  FILE *fp = fopen(side, "r");
  if (!fp) fp = fopen(path, "r");
  if (!fp) return 1;
  out[0] = '\0';
  *skip = 0;
  while (fgets(line, sizeof line, fp) && line[0] == '#') {
    line[strcspn(line, "\r\n")] = '\0';
    if (!strncmp(line, prefix, strlen(prefix))) snprintf(out, len, "%s", line + strlen(prefix));
    else if (!strncmp(line, stage, strlen(stage)) && strcmp(line + strlen(stage), "config")) *skip = 1;
    else if (!strncmp(line, known, strlen(known))) *skip = 1;
  }
  fclose(fp);
  return out[0] == '\0';
}

/** 0 when the bad config at path is refused as its header says; *tested
 * cleared for a case that is not the config module's. */
static int CheckOne(const char *path, const regex_t *form, int *tested)
{
  char expect[1024], err[OX_ERR_MAX];
  OxConfig cfg;
  int skip = 0;
  *tested = 0;
  if (ReadExpect(path, expect, sizeof expect, &skip)) {
    fprintf(stderr, "%s: no '# expect: <text>' line in its header\n", path);
    return 1;
  }
  if (skip) return 0;
  *tested = 1;
  memset(err, 0, sizeof err);
  int rc = OxConfigLoad(path, 0, NULL, &cfg, err, sizeof err);
  OxConfigFree(&cfg); /* must be safe after a failure */
  int bad = 0;
  /* The file the message names: the case, or the NAME.inc it includes when the expectation says so. */
  char named[4096];
  size_t inclen = strcspn(expect, ":");
  const char *slash = strrchr(path, '/');
  if (inclen > 4 && expect[inclen] == ':' && !strncmp(expect + inclen - 4, ".inc", 4))
    snprintf(named, sizeof named, "%.*s%.*s", slash ? (int)(slash - path + 1) : 0, path,
             (int)inclen, expect);
  else snprintf(named, sizeof named, "%s", path);
  if (rc != 2) {
    fprintf(stderr, "%s: status %d, expected 2 (message: '%s')\n", path, rc, err);
    bad = 1;
  }
  if (strncmp(err, named, strlen(named)) || regexec(form, err, 0, NULL, 0)) {
    fprintf(stderr, "%s: message '%s' is not of the form '%s:LINE: key 'a.b': ...; ...'\n", path,
            err, named);
    bad = 1;
  }
  if (strchr(err, '\n')) {
    fprintf(stderr, "%s: message spans several lines: '%s'\n", path, err);
    bad = 1;
  }
  if (!strstr(err, expect)) {
    fprintf(stderr, "%s: message '%s' does not contain '%s'\n", path, err, expect);
    bad = 1;
  }
  return bad;
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: %s BAD_DIR\n", argv[0]);
    return 1;
  }
  regex_t form;
  static const char pattern[] = "^[^:]+:[0-9]+: (key '[^']+'|syntax error): .+; .+";
  if (regcomp(&form, pattern, REG_EXTENDED | REG_NOSUB)) {
    fprintf(stderr, "regcomp failed\n");
    return 1;
  }
  DIR *dir = opendir(argv[1]);
  if (!dir) {
    fprintf(stderr, "%s: cannot open the folder\n", argv[1]);
    regfree(&form);
    return 1;
  }
  char **names = NULL;
  size_t n = 0;
  for (struct dirent *e; (e = readdir(dir)) != NULL;) {
    size_t len = strlen(e->d_name);
    if (len < 5 || strcmp(e->d_name + len - 4, ".cfg")) continue;
    char **grown = realloc(names, sizeof *names * (n + 1));
    if (!grown || !(grown[n] = malloc(strlen(argv[1]) + len + 2))) {
      fprintf(stderr, "out of memory\n");
      return 1;
    }
    names = grown;
    sprintf(names[n++], "%s/%s", argv[1], e->d_name);
  }
  closedir(dir);
  if (n) qsort(names, n, sizeof *names, CompareNames);
  int failures = 0;
  size_t ntested = 0;
  for (size_t i = 0; i < n; i++) {
    int tested;
    failures += CheckOne(names[i], &form, &tested);
    ntested += tested;
    free(names[i]);
  }
  free(names);
  regfree(&form);
  if (ntested < MIN_CASES) {
    fprintf(stderr, "%s: only %zu bad configs of stage config, expected at least %d\n", argv[1], ntested, MIN_CASES);
    failures++;
  }
  return failures ? 1 : 0;
}
