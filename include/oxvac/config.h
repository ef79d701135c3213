/**
 * @file config.h
 * @brief The validated run configuration (docs/interface.md section 3).
 *
 * Owns: reading a libconfig file, applying `--set PATH=VALUE` overrides,
 * filling defaults, validating every key, and printing the resolved config.
 * Knows nothing of PETSc: it is plain C so it can be tested on its own.
 * Every value carries its unit in its name, as in the file. Which keys there
 * are, their defaults, ranges and meanings: the key table (config_keys.h).
 */
#ifndef OXVAC_CONFIG_H
#define OXVAC_CONFIG_H

#include <stddef.h>

#define OX_TABLE_MAX 64
#define OX_PATH_MAX 4096
#define OX_ERR_MAX 1024

/** A table over state of charge; soc strictly increasing in [0,1]. */
typedef struct {
  int n;
  double soc[OX_TABLE_MAX];
  double value[OX_TABLE_MAX];
} OxTable;

typedef enum { OX_STEP_CC, OX_STEP_CV, OX_STEP_REST, OX_STEP_HOLD } OxStepType;

/** One protocol step, durations already converted to seconds. */
typedef struct {
  OxStepType type;
  double rate_C;            /**< cc: signed, + charge, - discharge (1C = soc 1 per hour) */
  double until_soc;         /**< cc, cv: target soc */
  double duration_s;        /**< cv, rest, hold */
  double tau_s;             /**< cv: time constant of the exponential approach */
  double soc;               /**< hold: soc set at once and kept */
  double release_scale;     /**< multiplies k(s) during this step (default 1) */
  double diffusivity_scale; /**< multiplies D(s) during this step (default 1) */
  int line;                 /**< line of the step in the config file (for messages) */
} OxStep;

/** A block of steps run `repeat` times (formation or cycling). */
typedef struct {
  int repeat;
  int nsteps;
  OxStep *steps;
} OxBlock;

typedef enum { OX_MICRO_SPHERE, OX_MICRO_GENERATED, OX_MICRO_IMPORT } OxMicroType;
typedef enum { OX_ACCESS_UNIFORM, OX_ACCESS_DEPTH, OX_ACCESS_CONNECTED } OxAccessModel;
typedef enum { OX_TIME_RESOLVED, OX_TIME_AVERAGED } OxTimeMode;

typedef struct {
  double center_um[3];
  double radius_um;
} OxSecondarySpec;

typedef struct {
  char source[OX_PATH_MAX]; /**< the config file as given on the command line */

  /* grid */
  double voxel_nm;     /**< 0 for an import that leaves it to the file (OxImportProbe) */
  int shape[3];        /**< nx, ny, nz (from shape, domain_um, or 0 when an import gives them) */
  int has_shape;       /**< shape given explicitly */
  double domain_um[3]; /**< when given instead of shape */
  int has_domain;

  /* microstructure */
  OxMicroType micro_type;
  double radius_nm;    /**< sphere */
  double center_nm[3]; /**< sphere; grid centre unless has_center */
  int has_center;
  long seed;           /**< generated */
  int n_secondaries;
  OxSecondarySpec *secondaries;
  double primary_diameter_nm, primary_cv, porosity;
  char import_file[OX_PATH_MAX]; /**< import: resolved relative to the config's folder */
  char import_labels[256];
  char import_secondary[256]; /**< "" when not given */
  double closing_nm;   /**< import: gaps narrower than this join primaries into one secondary
                            when the file has no secondary dataset (default 40) */
  int import_line;     /**< import: line of microstructure.file in source (for messages);
                            -N when the N-th --set gave it */

  /* material */
  OxTable diffusivity_cm2_s; /**< log-linear in soc */
  double diffusivity_scale;
  double particle_spread;
  double grain_boundary;
  double formula_li, formula_ni, formula_mn, formula_co;

  /* surface */
  OxTable exchange_nm_s;        /**< log-linear; a segment with a 0 end is linear */
  double exchange_scale;
  OxTable equilibrium_fraction; /**< linear */
  OxAccessModel access_model;
  double access_length_nm;      /**< depth model */
  int layer_cells;              /**< sub-voxel cells below each exposed voxel's surface (0: none) */
  double layer_depth;           /**< fraction of the voxel's depth along its normal they cover */
  double layer_growth;          /**< thickness ratio of successive cells, surface to depth */

  /* protocol */
  double initial_soc;
  OxBlock formation; /**< repeat = 0, nsteps = 0 when absent */
  OxBlock cycling;

  /* solver */
  double rtol, atol;
  OxTimeMode time_mode;

  /* output */
  char out_file[OX_PATH_MAX];
  int n_fields_at;
  int *fields_at_cycles; /**< sorted ascending, unique */
  int checkpoint_every_cycles;

  /* observables */
  double mn_share;
  double lamella_thickness_nm;
  char lamella_axis; /**< 'x', 'y' or 'z' */
  double profile_bin_nm;
  int mn3_field; /**< also store the Mn3+ fraction per voxel beside each stored field (default true) */

  /* initial */
  double initial_vacancy;           /**< uniform initial vacancy fraction of the solid */
  char initial_file[OX_PATH_MAX];   /**< "" or an HDF5 file with the initial field (resolved) */
  char initial_dataset[256];        /**< its float64 [nz][ny][nx] dataset */
  int initial_line;                 /**< line of initial.file (-N: the N-th --set) */

  /* mechanics (docs/mechanics.md) */
  int mech_enabled;
  double mech_young_GPa, mech_poisson;
  double mech_vacancy_expansion;    /**< beta: linear strain per unit vacancy fraction */
  OxTable mech_lattice_a;           /**< relative change of a(soc), linear in soc */
  OxTable mech_lattice_c;           /**< of c(soc): the same soc knots as mech_lattice_a */
  int mech_aligned;                 /**< 1: every primary's c axis along z; 0: random from the seed */
  double mech_eq_volume_A3;         /**< c_eq * exp(V sigma_h / kT) */
  double mech_diffusion_volume_A3;  /**< D * exp(V sigma_h / kT) */
  double mech_temperature_K;
  double mech_update_tolerance;     /**< recompute the vacancy stress when c moved this much */
} OxConfig;

/**
 * @brief Read, override, default and validate a configuration.
 *
 * @param[in]  path  config file
 * @param[in]  nset  number of `--set` overrides
 * @param[in]  sets  overrides, each "a.b.c=VALUE" with VALUE in libconfig syntax
 * @param[out] cfg   filled on success; release with OxConfigFree() in any case
 * @param[out] err   on failure: "FILE:LINE: key 'a.b': what is wrong; what is expected"
 * @param[in]  errlen size of err
 * @return 0 on success, 2 on any input error
 */
int OxConfigLoad(const char *path, int nset, const char *const *sets, OxConfig *cfg, char *err,
                 size_t errlen);

/**
 * @brief Where `key` ("a.b", list elements as "a.[0].b") of the config at path
 *        with its overrides was written, as messages say it: file and line (an
 *        @include'd file by its name), "--set" and the override's number, or
 *        the nearest enclosing setting written (path, line 1 when none).
 * @return 1 when the file or an override holds the key, 0 when it is a default
 */
int OxConfigLocateKey(const char *path, int nset, const char *const *sets, const char *key,
                      char *file, size_t filelen, int *line);

/** @brief Release what OxConfigLoad allocated; safe on a zeroed or failed config. */
void OxConfigFree(OxConfig *cfg);

/**
 * @brief The resolved configuration (every key, defaults filled) as libconfig text.
 * @return malloc'd string, owned by the caller; it parses back to the same config.
 */
char *OxConfigToString(const OxConfig *cfg);

/** @brief Case-insensitive edit distance of two names (for "did you mean"); INT_MAX when one has 128 characters or more. */
int OxEditDistance(const char *a, const char *b);

struct config_setting_t;
/** @brief What a libconfig setting is, for messages: "an integer", "a float", "a string", ... */
const char *OxConfigSettingKind(const struct config_setting_t *s);

/** @brief Evaluate a table log-linearly (segments with a zero end are linear). */
double OxTableEvalLog(const OxTable *t, double soc);
/** @brief Evaluate a table linearly; outside the first/last knot the end value holds. */
double OxTableEvalLinear(const OxTable *t, double soc);

#endif
