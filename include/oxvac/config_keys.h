/**
 * @file config_keys.h
 * @brief The one table of every config key (docs/interface.md section 3): full dotted
 *        path, type, unit, default, range and one-line meaning.
 *
 * Owns: the schema of the config. The reader (config.c) takes every default,
 * range, choice list, array length and valid key name from it; the printer of
 * the resolved config (OxConfigToString) walks it to know what to print and
 * where each value lives; `oxvac help config [--markdown]` and the generated
 * docs/config-reference.md print it. A key that is not in this table cannot be
 * read, printed or documented. Plain C, no PETSc.
 *
 * Paths are written as the user writes them: `material.formula.li`; an
 * element of a list of groups is `[]` (`protocol.cycling.steps.[].rate_C`
 * for any step); a table is a key of its own with the members `soc` and
 * `value` (`material.diffusivity_cm2_s.value`).
 */
#ifndef OXVAC_CONFIG_KEYS_H
#define OXVAC_CONFIG_KEYS_H

#include <stddef.h>
#include <stdio.h>

typedef enum {
  OX_KEY_GROUP,    /**< a group { ... } of keys */
  OX_KEY_NUMBER,   /**< a number (an integer is accepted) */
  OX_KEY_INTEGER,  /**< an integer (a float without fraction is accepted) */
  OX_KEY_BOOL,     /**< true or false */
  OX_KEY_STRING,   /**< a quoted string */
  OX_KEY_CHOICE,   /**< a quoted string, one of `choices` */
  OX_KEY_NUMBERS,  /**< an array of len_min..len_max numbers */
  OX_KEY_INTEGERS, /**< an array of len_min..len_max integers */
  OX_KEY_TABLE,    /**< a table over soc: { soc = [..]; value = [..]; } (its members are keys) */
  OX_KEY_LIST      /**< a list of groups ( { ... }, ... ); its element keys are under `[]` */
} OxKeyType;

typedef enum {
  OX_DEF_VALUE,    /**< absent: the default value below */
  OX_DEF_REQUIRED, /**< must be given (when its group or variant is used) */
  OX_DEF_NONE      /**< may be absent, and then has no value (the meaning says what follows) */
} OxKeyDefault;

enum {
  OX_KEY_VARIANT = 1,    /**< a choice whose value selects the keys of its group (type, model) */
  OX_KEY_INLINE = 2,     /**< a group printed on one line */
  OX_KEY_EMPTY_OK = 4,   /**< a string that may be "" */
  OX_KEY_INCREASING = 8, /**< an array that must be strictly increasing */
  OX_KEY_NONZERO = 16,   /**< a number that must not be 0 (the reader says so in its own words) */
  OX_KEY_MAGNITUDE = 32  /**< lo, hi bound |v|, either sign allowed (a C-rate) */
};

/** Where the resolved value of a key lives, for the printer (offsets into the enclosing struct). */
typedef enum {
  OX_STORE_NONE,      /**< a group whose members live in the enclosing struct */
  OX_STORE_STRUCT,    /**< a group or table whose members live in the struct at `off` */
  OX_STORE_DOUBLE,
  OX_STORE_SECONDS,   /**< a double in seconds, printed divided by `factor` (min, h) */
  OX_STORE_DOUBLES,   /**< double[len_max] */
  OX_STORE_DOUBLES_N, /**< double[] with its count an int at `aux` */
  OX_STORE_INT,
  OX_STORE_INTS,      /**< int[len_max] */
  OX_STORE_INTS_PTR,  /**< int * at `off`, its count an int at `aux` */
  OX_STORE_LONG,
  OX_STORE_ENUM,      /**< an enum (int) indexing `choices` */
  OX_STORE_LETTER,    /**< a char, the choice itself ('x') */
  OX_STORE_BOOL,      /**< an int, 0 or 1 */
  OX_STORE_CHARS,     /**< a char[] string */
  OX_STORE_LIST       /**< elements: pointer at `off`, int count at `aux`, size `elem` */
} OxKeyStore;

typedef enum {
  OX_PRESENT_ALWAYS,
  OX_PRESENT_FLAG,    /**< printed when the int at `present_off` is non-zero */
  OX_PRESENT_POSITIVE /**< printed when the double value is > 0 */
} OxKeyPresent;

typedef struct {
  OxKeyStore kind;
  size_t off, aux, elem;
  double factor;
  OxKeyPresent present;
  size_t present_off;
  const char *absent; /**< comment printed in its place when not present ("the grid centre") */
} OxKeyStorage;

/** One key of the config. */
typedef struct {
  const char *path;       /**< "material.formula.li", "protocol.cycling.steps.[].rate_C" */
  OxKeyType type;
  const char *unit;       /**< "nm", "cm^2/s", "1" (dimensionless), "" (not a quantity) */
  OxKeyDefault def_kind;
  double def;             /**< number, integer, bool (0/1), choice (index into choices) */
  const char *def_str;    /**< string */
  const double *def_vals; /**< array */
  int def_n;
  double lo, hi;          /**< bounds of a number, integer or array element (+-HUGE_VAL: none) */
  int lo_open, hi_open;
  const char *range_note; /**< said after the bounds, e.g. why they are what they are */
  int len_min, len_max;   /**< arrays, tables (knots) and lists: number of elements */
  const char *const *choices; /**< choice: NULL-terminated */
  const char *only;       /**< "cc|cv": accepted only for these values of its group's variant key */
  const char *alt;        /**< the sibling key that may be given instead of this one */
  int flags;              /**< OX_KEY_VARIANT, OX_KEY_INLINE, OX_KEY_EMPTY_OK, ... */
  const char *meaning;    /**< one line */
  OxKeyStorage store;
} OxConfigKey;

/** @brief Number of keys in the table. */
int OxConfigKeyCount(void);

/** @brief Key i (0 <= i < OxConfigKeyCount()), in table order: every group before its members. */
const OxConfigKey *OxConfigKeyAt(int i);

/**
 * @brief The key at `path`, with list indices as in messages or --set
 *        ("protocol.cycling.steps.[2].rate_C") or as "[]"; NULL when there is none.
 */
const OxConfigKey *OxConfigKeyFind(const char *path);

/** @brief The last component of the key's path ("li" of "material.formula.li"). */
const char *OxConfigKeyName(const OxConfigKey *k);

/**
 * @brief The keys directly inside `group` ("" for the top level; "a.list.[]"
 *        for the elements of a list; indices may be given as "[N]"), in table
 *        order, that are accepted when the group's variant key has the value
 *        `variant` (NULL: every key).
 * @param[out] kids room for max keys
 * @return how many keys were found (at most max)
 */
int OxConfigKeyChildren(const char *group, const char *variant, const OxConfigKey **kids, int max);

/** @brief Whether key k is accepted in its group when the variant is `variant` (NULL: always). */
int OxConfigKeyAccepts(const OxConfigKey *k, const char *variant);

/** @brief Whether the number v is within k's bounds (finite and inside). */
int OxConfigKeyInRange(const OxConfigKey *k, double v);

/**
 * @brief The bounds as the reader's messages say them after "a number":
 *        " > 0", " in [0, 0.9)", "" when unbounded, and the range note.
 */
void OxConfigKeyRangeText(const OxConfigKey *k, char *buf, size_t len);

/**
 * @brief The default as the printer of the resolved config writes it
 *        ("1.0", "[1, 125, 500]", "\"uniform\"", "{ soc = [...]; value = [...]; }"),
 *        or "required" / "none"; "" for a group.
 */
void OxConfigKeyDefaultText(const OxConfigKey *k, char *buf, size_t len);

/**
 * @brief The shortest of %.15g..%.17g that reads back to exactly v, always
 *        with a '.' or an exponent (libconfig reads "1" as an integer): how the
 *        printer and the key table write numbers.
 */
void OxFormatNumber(double v, char *buf, size_t len);

/**
 * @brief Print every key, grouped by top-level section: plain text, or the
 *        Markdown of docs/config-reference.md (`oxvac help config --markdown`).
 */
void OxConfigHelp(FILE *out, int markdown);

#endif
