/**
 * @file config_keys.c
 * @brief The key table of the config (config_keys.h) and what prints it:
 *        `oxvac help config` and docs/config-reference.md.
 *
 * Each row is one key as the user writes it. The reader (config.c) looks up
 * its default and range here, the printer of the resolved config walks the
 * rows in order (hence every group comes before its members, and the members
 * in the order they are printed), and the help is these rows, grouped by
 * top-level section. To add a key: add its row here, read it in config.c,
 * regenerate docs/config-reference.md (`cmake --build build --target
 * config-reference`).
 */
#include "oxvac/config_keys.h"

#include "oxvac/config.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define INF HUGE_VAL
#define KIDS_MAX 64     /* members of one group, far more than any has */
#define PATH_LEN 256    /* longest key path */

/* ------------------------------------------------------------------------ */
/* The table                                                                */
/* ------------------------------------------------------------------------ */

/* The orders of the choices are those of the enums in config.h. */
static const char *const kMicroTypes[] = {"sphere", "generated", "import", NULL};
static const char *const kAccessModels[] = {"uniform", "depth", "connected", NULL};
static const char *const kStepTypes[] = {"cc", "cv", "rest", "hold", NULL};
static const char *const kTimeModes[] = {"resolved", "averaged", NULL};
static const char *const kAxes[] = {"x", "y", "z", NULL};
static const char *const kOrientations[] = {"random", "aligned", NULL};
static const double kLatticeSoc[] = {0.0, 1.0};
static const double kLatticeValue[] = {0.0, 0.0};

static const double kDiffusivitySoc[] = {0.0, 0.8, 1.0};
static const double kDiffusivityValue[] = {1e-21, 1e-19, 1e-17};
static const double kExchangeSoc[] = {0.0, 1.0};
static const double kExchangeValue[] = {0.0, 1e-3};
static const double kEquilibriumSoc[] = {0.0, 1.0};
static const double kEquilibriumValue[] = {0.0, 0.15};
static const double kFieldsAtCycles[] = {1, 125, 500};

#define N_OF(a) (int)(sizeof(a) / sizeof((a)[0]))
#define CFG(f) offsetof(OxConfig, f)

/* Bounds. */
#define POSITIVE .lo = 0, .hi = INF, .lo_open = 1
#define NONNEG .lo = 0, .hi = INF
#define UNIT_INTERVAL .lo = 0, .hi = 1
/* A multiplier of D or k: six decades either way span every fit and sweep; the
 * product with its table is checked against DIFFUSIVITY / EXCHANGE (run.c). */
#define SCALE .lo = 1e-6, .hi = 1e6
/* Exchange velocities: 1e6 nm/s (1 mm/s) holds any surface at equilibrium. */
#define EXCHANGE .lo = 0, .hi = 1e6
#define ANY .lo = -INF, .hi = INF
#define COUNT(from) .lo = (from), .hi = INT_MAX
/* Solid-state vacancy diffusivities are 1e-22..1e-12 cm^2/s; 1e-5 is a liquid's. */
#define DIFFUSIVITY .lo = 0, .hi = 1e-5, .lo_open = 1

/* Defaults. */
#define REQUIRED .def_kind = OX_DEF_REQUIRED
#define NO_DEFAULT .def_kind = OX_DEF_NONE
#define ARRAY_DEFAULT(a) .def_vals = (a), .def_n = N_OF(a)

/* Where the printer finds a value: offset `o` in the enclosing struct. */
#define AT(k, o) .store = {.kind = (k), .off = (o)}

#define GROUP(p, m) {.path = (p), .type = OX_KEY_GROUP, .unit = "", .meaning = (m)}
#define INLINE_GROUP(p, m)                                                                         \
  {.path = (p), .type = OX_KEY_GROUP, .unit = "", .flags = OX_KEY_INLINE, .meaning = (m)}

/* A table over soc stored in OxTable `field`: its row and its soc and value rows. */
#define TABLE(p, u, field, soc_def, value_def, value_bounds, m, value_m)                           \
  {.path = p, .type = OX_KEY_TABLE, .unit = (u), .len_min = 1, .len_max = OX_TABLE_MAX,            \
   .flags = OX_KEY_INLINE, .meaning = (m), AT(OX_STORE_STRUCT, CFG(field))},                       \
  {.path = p ".soc", .type = OX_KEY_NUMBERS, .unit = "1", ARRAY_DEFAULT(soc_def), UNIT_INTERVAL,   \
   .len_min = 1, .len_max = OX_TABLE_MAX, .flags = OX_KEY_INCREASING,                              \
   .meaning = "The knots, states of charge; setting soc alone keeps the values",                   \
   .store = {.kind = OX_STORE_DOUBLES_N, .off = offsetof(OxTable, soc),                            \
             .aux = offsetof(OxTable, n)}},                                                        \
  {.path = p ".value", .type = OX_KEY_NUMBERS, .unit = (u), ARRAY_DEFAULT(value_def),            \
   value_bounds,                                                                                  \
   .len_min = 1, .len_max = OX_TABLE_MAX, .meaning = (value_m),                                    \
   .store = {.kind = OX_STORE_DOUBLES_N, .off = offsetof(OxTable, value),                          \
             .aux = offsetof(OxTable, n)}}

/* The keys of a protocol step (one element of `p`.steps), stored in OxStep. */
#define STEP_KEYS(p)                                                                               \
  {.path = p ".steps.[].type", .type = OX_KEY_CHOICE, .unit = "", REQUIRED,                        \
   .choices = kStepTypes, .flags = OX_KEY_VARIANT,                                                 \
   .meaning = "What the step does: cc constant current to until_soc, cv exponential approach "     \
              "to until_soc, rest soc kept, hold soc set at once and kept",                        \
   AT(OX_STORE_ENUM, offsetof(OxStep, type))},                                                     \
  {.path = p ".steps.[].rate_C", .type = OX_KEY_NUMBER, .unit = "C", REQUIRED, .lo = 1e-4,       \
   .hi = 100, .only = "cc", .flags = OX_KEY_NONZERO | OX_KEY_MAGNITUDE,                            \
   .meaning = "C-rate: + charge, - discharge; 1C moves soc by 1 per hour",                         \
   AT(OX_STORE_DOUBLE, offsetof(OxStep, rate_C))},                                                 \
  {.path = p ".steps.[].duration_min", .type = OX_KEY_NUMBER, .unit = "min", REQUIRED, .lo = 0,   \
   .hi = 6e7, .range_note = " (1e6 h)",                                                            \
   .only = "cv|rest", .meaning = "How long the step lasts",                                        \
   .store = {.kind = OX_STORE_SECONDS, .off = offsetof(OxStep, duration_s), .factor = 60.0}},      \
  {.path = p ".steps.[].until_soc", .type = OX_KEY_NUMBER, .unit = "1", REQUIRED, UNIT_INTERVAL,   \
   .only = "cc|cv", .meaning = "The target soc (cc: reached; cv: approached)",                     \
   AT(OX_STORE_DOUBLE, offsetof(OxStep, until_soc))},                                              \
  {.path = p ".steps.[].tau_min", .type = OX_KEY_NUMBER, .unit = "min", .def = 10.0, .lo = 0,     \
   .hi = 6e7, .lo_open = 1, .range_note = " (1e6 h)",                                              \
   .only = "cv",                                                                                   \
   .meaning = "Time constant: soc = until_soc + (s0 - until_soc) exp(-t / tau_min)",               \
   .store = {.kind = OX_STORE_SECONDS, .off = offsetof(OxStep, tau_s), .factor = 60.0}},           \
  {.path = p ".steps.[].soc", .type = OX_KEY_NUMBER, .unit = "1", REQUIRED, UNIT_INTERVAL,         \
   .only = "hold", .meaning = "The soc set at the start of the step and kept",                     \
   AT(OX_STORE_DOUBLE, offsetof(OxStep, soc))},                                                    \
  {.path = p ".steps.[].duration_h", .type = OX_KEY_NUMBER, .unit = "h", REQUIRED, .lo = 0,       \
   .hi = 1e6,                                                                                      \
   .only = "hold", .meaning = "How long the hold lasts",                                           \
   .store = {.kind = OX_STORE_SECONDS, .off = offsetof(OxStep, duration_s), .factor = 3600.0}},    \
  {.path = p ".steps.[].release_scale", .type = OX_KEY_NUMBER, .unit = "1", .def = 1.0, SCALE,     \
   .meaning = "Multiplies the exchange rate k(soc) during this step",                              \
   AT(OX_STORE_DOUBLE, offsetof(OxStep, release_scale))},                                          \
  {.path = p ".steps.[].diffusivity_scale", .type = OX_KEY_NUMBER, .unit = "1", .def = 1.0,        \
   SCALE, .meaning = "Multiplies the diffusivity D(soc) during this step",                      \
   AT(OX_STORE_DOUBLE, offsetof(OxStep, diffusivity_scale))}

#define STEPS(p, m)                                                                                \
  {.path = p ".steps", .type = OX_KEY_LIST, .unit = "", REQUIRED, .len_min = 1,                    \
   .len_max = INT_MAX, .meaning = (m),                                                             \
   .store = {.kind = OX_STORE_LIST, .off = offsetof(OxBlock, steps),                               \
             .aux = offsetof(OxBlock, nsteps), .elem = sizeof(OxStep)}}

static const OxConfigKey kKeys[] = {
  GROUP("grid", "The voxel grid: cubic voxels of edge voxel_nm"),
  /* Voxels of 5-100 nm are usual; below 0.1 nm is below an atom, above 1 um no particle is
   * resolved. */
  {.path = "grid.voxel_nm", .type = OX_KEY_NUMBER, .unit = "nm", REQUIRED, .lo = 0.1, .hi = 1000,
   .range_note = " (below an interatomic distance or above a micrometre is no voxel of a particle)",
   .meaning = "Edge of the cubic voxels; an import may take it from its file instead",
   .store = {.kind = OX_STORE_DOUBLE, .off = CFG(voxel_nm), .present = OX_PRESENT_POSITIVE,
             .absent = "from the imported file"}},
  {.path = "grid.shape", .type = OX_KEY_INTEGERS, .unit = "voxels", REQUIRED, .lo = 1,
   .hi = 1048576 /* voxels per axis: far beyond any grid that fits in memory */, .len_min = 3,
   .len_max = 3, .alt = "domain_um",
   .meaning = "Voxels along x, y, z; an import takes them from its file",
   .store = {.kind = OX_STORE_INTS, .off = CFG(shape), .present = OX_PRESENT_FLAG,
             .present_off = CFG(has_shape), .absent = "from the imported file"}},
  {.path = "grid.domain_um", .type = OX_KEY_NUMBERS, .unit = "um", NO_DEFAULT, POSITIVE,
   .len_min = 3, .len_max = 3,
   .meaning = "Extent along x, y, z instead of shape: shape = ceil(domain_um / voxel_nm), so "
              "--set grid.voxel_nm refines the same geometry",
   .store = {.kind = OX_STORE_DOUBLES, .off = CFG(domain_um), .present = OX_PRESENT_FLAG,
             .present_off = CFG(has_domain)}},

  GROUP("microstructure", "The solid: one sphere, generated secondaries of whole primaries, or "
                          "an imported labelled image"),
  {.path = "microstructure.type", .type = OX_KEY_CHOICE, .unit = "", REQUIRED,
   .choices = kMicroTypes, .flags = OX_KEY_VARIANT,
   .meaning = "Which microstructure; it decides which other keys the group takes",
   AT(OX_STORE_ENUM, CFG(micro_type))},
  {.path = "microstructure.radius_nm", .type = OX_KEY_NUMBER, .unit = "nm", REQUIRED, POSITIVE,
   .only = "sphere", .meaning = "Radius of the sphere, one primary particle",
   AT(OX_STORE_DOUBLE, CFG(radius_nm))},
  {.path = "microstructure.center_nm", .type = OX_KEY_NUMBERS, .unit = "nm", NO_DEFAULT, ANY,
   .len_min = 3, .len_max = 3, .only = "sphere",
   .meaning = "Centre of the sphere; absent: the centre of the grid",
   .store = {.kind = OX_STORE_DOUBLES, .off = CFG(center_nm), .present = OX_PRESENT_FLAG,
             .present_off = CFG(has_center), .absent = "the grid centre"}},
  {.path = "microstructure.seed", .type = OX_KEY_INTEGER, .unit = "", .def = 1, ANY,
   .only = "generated",
   .meaning = "Seed of the packing and of material.particle_spread: same seed, same labels on "
              "any number of ranks",
   AT(OX_STORE_LONG, CFG(seed))},
  {.path = "microstructure.secondaries", .type = OX_KEY_LIST, .unit = "", REQUIRED,
   .len_min = 1, .len_max = 10000, .only = "generated", /* each primary seed is tested against every secondary */
   .meaning = "The secondary particles, each the primaries whose seeds lie inside its sphere",
   .store = {.kind = OX_STORE_LIST, .off = CFG(secondaries), .aux = CFG(n_secondaries),
             .elem = sizeof(OxSecondarySpec)}},
  {.path = "microstructure.secondaries.[].center_um", .type = OX_KEY_NUMBERS, .unit = "um",
   REQUIRED, ANY, .len_min = 3, .len_max = 3,
   .meaning = "Centre of the secondary; on a domain corner or face it is an octant or a half",
   AT(OX_STORE_DOUBLES, offsetof(OxSecondarySpec, center_um))},
  {.path = "microstructure.secondaries.[].radius_um", .type = OX_KEY_NUMBER, .unit = "um",
   REQUIRED, POSITIVE, .meaning = "Radius of the secondary's sphere",
   AT(OX_STORE_DOUBLE, offsetof(OxSecondarySpec, radius_um))},
  {.path = "microstructure.primary_diameter_nm", .type = OX_KEY_NUMBER, .unit = "nm",
   .def = 200.0, .lo = 1, .hi = 1e5, .only = "generated",
   .range_note = " (and at least grid.voxel_nm)",
   .meaning = "Mean equal-volume diameter of the primaries",
   AT(OX_STORE_DOUBLE, CFG(primary_diameter_nm))},
  /* The Laguerre generator reproduces size spreads up to about 0.35 (measured). */
  {.path = "microstructure.primary_cv", .type = OX_KEY_NUMBER, .unit = "1", .def = 0.25,
   .lo = 0, .hi = 0.35,
   .range_note = " (wider size distributions are not reproduced by the generator)",
   .only = "generated", .meaning = "Coefficient of variation of the primaries' diameters",
   AT(OX_STORE_DOUBLE, CFG(primary_cv))},
  {.path = "microstructure.porosity", .type = OX_KEY_NUMBER, .unit = "1", .def = 0.10, .lo = 0,
   .hi = 0.9, .hi_open = 1, .only = "generated",
   .meaning = "Electrolyte-filled fraction of the secondaries' volume, gaps between primaries",
   AT(OX_STORE_DOUBLE, CFG(porosity))},
  {.path = "microstructure.file", .type = OX_KEY_STRING, .unit = "", REQUIRED, .only = "import",
   .meaning = "Labelled voxel image (HDF5), relative to the config's folder; printed absolute",
   AT(OX_STORE_CHARS, CFG(import_file))},
  {.path = "microstructure.labels", .type = OX_KEY_STRING, .unit = "", .def_str = "/labels",
   .only = "import",
   .meaning = "Dataset of labels in the file, integer [nz][ny][nx]: 0 electrolyte, > 0 primary id",
   AT(OX_STORE_CHARS, CFG(import_labels))},
  {.path = "microstructure.secondary", .type = OX_KEY_STRING, .unit = "", .def_str = "",
   .only = "import", .flags = OX_KEY_EMPTY_OK,
   .meaning = "Dataset of secondary ids per voxel in the file; \"\": derived with closing_nm",
   AT(OX_STORE_CHARS, CFG(import_secondary))},
  {.path = "microstructure.closing_nm", .type = OX_KEY_NUMBER, .unit = "nm", .def = 40.0,
   POSITIVE, .only = "import",
   .meaning = "Without secondary ids: pores narrower than this are closed, and each connected "
              "cluster of solid is a secondary",
   AT(OX_STORE_DOUBLE, CFG(closing_nm))},

  GROUP("material", "Vacancy transport in the solid, and its composition"),
  TABLE("material.diffusivity_cm2_s", "cm^2/s", diffusivity_cm2_s, kDiffusivitySoc,
        kDiffusivityValue, DIFFUSIVITY,
        "Vacancy diffusivity D(soc): log-linear in soc between knots, the end values outside",
        "D at each knot, one per soc; setting value alone keeps soc"),
  {.path = "material.diffusivity_scale", .type = OX_KEY_NUMBER, .unit = "1", .def = 1.0,
   SCALE, .meaning = "Multiplies D(soc) everywhere (and each step's diffusivity_scale)",
   AT(OX_STORE_DOUBLE, CFG(diffusivity_scale))},
  /* sigma 3 already spreads D over a factor e^6 ~ 400 between -1 and +1 sigma. */
  {.path = "material.particle_spread", .type = OX_KEY_NUMBER, .unit = "1", .def = 0.0, .lo = 0,
   .hi = 3,
   .meaning = "Log-standard deviation of a log-normal D multiplier per primary (median 1)",
   AT(OX_STORE_DOUBLE, CFG(particle_spread))},
  {.path = "material.grain_boundary", .type = OX_KEY_NUMBER, .unit = "1", .def = 0.0,
   UNIT_INTERVAL,
   .meaning = "Conductance of a face between two primaries relative to one inside a primary",
   AT(OX_STORE_DOUBLE, CFG(grain_boundary))},
  INLINE_GROUP("material.formula", "Composition: atoms per formula unit of Li Ni Mn Co O2"),
  {.path = "material.formula.li", .type = OX_KEY_NUMBER, .unit = "1", .def = 1.18, NONNEG,
   .meaning = "Lithium per formula unit", AT(OX_STORE_DOUBLE, CFG(formula_li))},
  {.path = "material.formula.ni", .type = OX_KEY_NUMBER, .unit = "1", .def = 0.21, NONNEG,
   .meaning = "Nickel per formula unit", AT(OX_STORE_DOUBLE, CFG(formula_ni))},
  {.path = "material.formula.mn", .type = OX_KEY_NUMBER, .unit = "1", .def = 0.53, POSITIVE,
   .meaning = "Manganese per formula unit; the Mn3+ fraction is a fraction of it",
   AT(OX_STORE_DOUBLE, CFG(formula_mn))},
  {.path = "material.formula.co", .type = OX_KEY_NUMBER, .unit = "1", .def = 0.08, NONNEG,
   .meaning = "Cobalt per formula unit", AT(OX_STORE_DOUBLE, CFG(formula_co))},

  GROUP("surface", "Oxygen release at solid/electrolyte faces: inward flux a k (c_eq - c)"),
  TABLE("surface.exchange_nm_s", "nm/s", exchange_nm_s, kExchangeSoc, kExchangeValue, EXCHANGE,
        "Exchange rate constant k(soc): log-linear in soc, linear on a segment with a 0 end",
        "The rate constant k at each knot, one per soc; setting value alone keeps soc"),
  {.path = "surface.exchange_scale", .type = OX_KEY_NUMBER, .unit = "1", .def = 1.0, SCALE,
   .meaning = "Multiplies k(soc) everywhere (and each step's release_scale)",
   AT(OX_STORE_DOUBLE, CFG(exchange_scale))},
  TABLE("surface.equilibrium_fraction", "1", equilibrium_fraction, kEquilibriumSoc,
        kEquilibriumValue, UNIT_INTERVAL,
        "Equilibrium vacancy site fraction c_eq(soc) at the surface, linear in soc",
        "The fraction c_eq at each knot, one per soc; setting value alone keeps soc"),
  INLINE_GROUP("surface.accessibility", "How much of each surface face exchanges"),
  {.path = "surface.accessibility.model", .type = OX_KEY_CHOICE, .unit = "",
   .def = OX_ACCESS_UNIFORM, .choices = kAccessModels, .flags = OX_KEY_VARIANT,
   .meaning = "Weight of each face's exchange: uniform 1; depth exp(-d / length_nm), d its "
              "depth below its secondary's envelope; connected 1 where its electrolyte "
              "reaches the outside, 0 in closed pores",
   AT(OX_STORE_ENUM, CFG(access_model))},
  {.path = "surface.accessibility.length_nm", .type = OX_KEY_NUMBER, .unit = "nm", .def = 100.0,
   POSITIVE, .only = "depth", .meaning = "Decay length of the depth model",
   AT(OX_STORE_DOUBLE, CFG(access_length_nm))},
  INLINE_GROUP("surface.layer", "Sub-voxel surface layer, so that fronts thinner than a voxel "
                                "are resolved (docs/numerics.md)"),
  {.path = "surface.layer.cells", .type = OX_KEY_INTEGER, .unit = "1", .def = 8, .lo = 0,
   .hi = 32, .meaning = "Graded cells below each exchanging voxel's surface; 0: no layer",
   AT(OX_STORE_INT, CFG(layer_cells))},
  {.path = "surface.layer.depth_fraction", .type = OX_KEY_NUMBER, .unit = "1", .def = 0.65,
   .lo = 0, .hi = 1, .lo_open = 1, .hi_open = 1,
   .meaning = "Fraction of the voxel's depth along its normal that the cells cover",
   AT(OX_STORE_DOUBLE, CFG(layer_depth))},
  {.path = "surface.layer.growth", .type = OX_KEY_NUMBER, .unit = "1", .def = 1.4, .lo = 1,
   .hi = 10, .meaning = "Thickness ratio of successive cells, surface to depth",
   AT(OX_STORE_DOUBLE, CFG(layer_growth))},

  GROUP("protocol", "The electrochemical protocol: an optional formation, then the cycles"),
  {.path = "protocol.initial_soc", .type = OX_KEY_NUMBER, .unit = "1", .def = 0.0,
   UNIT_INTERVAL, .meaning = "State of charge at t = 0", AT(OX_STORE_DOUBLE, CFG(initial_soc))},
  {.path = "protocol.formation", .type = OX_KEY_GROUP, .unit = "", NO_DEFAULT,
   .meaning = "Steps run before the cycles, not counted as cycles",
   .store = {.kind = OX_STORE_STRUCT, .off = CFG(formation), .present = OX_PRESENT_FLAG,
             .present_off = CFG(formation.nsteps), .absent = "none"}},
  {.path = "protocol.formation.repeat", .type = OX_KEY_INTEGER, .unit = "1", .def = 1,
   COUNT(0), .meaning = "Passes through the steps; 0 switches the formation off",
   AT(OX_STORE_INT, offsetof(OxBlock, repeat))},
  STEPS("protocol.formation", "The steps of one formation pass, in order"),
  STEP_KEYS("protocol.formation"),
  {.path = "protocol.cycling", .type = OX_KEY_GROUP, .unit = "", REQUIRED,
   .meaning = "The cycles: cycle 1 is the first pass through its steps",
   AT(OX_STORE_STRUCT, CFG(cycling))},
  {.path = "protocol.cycling.repeat", .type = OX_KEY_INTEGER, .unit = "1", .def = 1, COUNT(1),
   .meaning = "Number of cycles", AT(OX_STORE_INT, offsetof(OxBlock, repeat))},
  STEPS("protocol.cycling", "The steps of one cycle, in order"),
  STEP_KEYS("protocol.cycling"),

  GROUP("solver", "Time integration"),
  /* Looser than these the integrator returns negative vacancy fractions. */
  {.path = "solver.rtol", .type = OX_KEY_NUMBER, .unit = "1", .def = 1e-6, .lo = 0, .hi = 0.1,
   .lo_open = 1,
   .meaning = "Relative tolerance of the time integrator", AT(OX_STORE_DOUBLE, CFG(rtol))},
  {.path = "solver.atol", .type = OX_KEY_NUMBER, .unit = "1", .def = 1e-12, .lo = 0, .hi = 1e-3,
   .lo_open = 1,
   .meaning = "Absolute tolerance, in vacancy site fraction", AT(OX_STORE_DOUBLE, CFG(atol))},
  {.path = "solver.time_mode", .type = OX_KEY_CHOICE, .unit = "", .def = OX_TIME_RESOLVED,
   .choices = kTimeModes,
   .meaning = "How time is integrated: resolved every step; averaged cycle-averaged "
              "(docs/interface.md section 6)",
   AT(OX_STORE_ENUM, CFG(time_mode))},

  GROUP("output", "The result file"),
  {.path = "output.file", .type = OX_KEY_STRING, .unit = "", .def_str = "results/run.h5",
   .meaning = "The HDF5 result (OUT.xdmf beside it); -o overrides it",
   AT(OX_STORE_CHARS, CFG(out_file))},
  {.path = "output.fields_at_cycles", .type = OX_KEY_INTEGERS, .unit = "cycles",
   ARRAY_DEFAULT(kFieldsAtCycles), COUNT(0), .len_min = 0, .len_max = INT_MAX,
   .meaning = "Cycles at whose end the 3D fields are stored, 0 the initial state; sorted, "
              "each once",
   .store = {.kind = OX_STORE_INTS_PTR, .off = CFG(fields_at_cycles), .aux = CFG(n_fields_at)}},
  {.path = "output.checkpoint_every_cycles", .type = OX_KEY_INTEGER, .unit = "cycles",
   .def = 10, COUNT(0), .meaning = "A checkpoint every this many cycles; 0: never",
   AT(OX_STORE_INT, CFG(checkpoint_every_cycles))},

  GROUP("observables", "What the microscope sees: Mn3+ fraction, profiles, a virtual lamella"),
  {.path = "observables.mn_share", .type = OX_KEY_NUMBER, .unit = "1", .def = 1.0,
   UNIT_INTERVAL,
   .meaning = "Share of the vacancies' electrons that reduce Mn4+ to Mn3+ (the rest: Co)",
   AT(OX_STORE_DOUBLE, CFG(mn_share))},
  INLINE_GROUP("observables.lamella",
               "A virtual cross-section through the centre of the largest secondary"),
  {.path = "observables.lamella.thickness_nm", .type = OX_KEY_NUMBER, .unit = "nm", .def = 80.0,
   .lo = 0, .hi = 1e6, .lo_open = 1, .meaning = "Thickness of the slab (one thicker than the grid takes the whole grid)", AT(OX_STORE_DOUBLE, CFG(lamella_thickness_nm))},
  {.path = "observables.lamella.axis", .type = OX_KEY_CHOICE, .unit = "", .def = 2,
   .choices = kAxes, .meaning = "Normal of the slab, along which the beam runs",
   AT(OX_STORE_LETTER, CFG(lamella_axis))},
  {.path = "observables.profile_bin_nm", .type = OX_KEY_NUMBER, .unit = "nm", .def = 10.0,
   .lo = 0.01, .hi = 1e6, .range_note = " (and at most 100000 bins over the grid's diagonal)", .meaning = "Bin width of the profiles over the distance from the particle surface",
   AT(OX_STORE_DOUBLE, CFG(profile_bin_nm))},
  {.path = "observables.mn3_field", .type = OX_KEY_BOOL, .unit = "", .def = 1,
   .meaning = "Also store the Mn3+ fraction per voxel beside each stored field (ParaView shows it)",
   AT(OX_STORE_BOOL, CFG(mn3_field))},

  GROUP("initial", "The vacancy fraction at t = 0"),
  {.path = "initial.vacancy_fraction", .type = OX_KEY_NUMBER, .unit = "1", .def = 0.0,
   .lo = 0, .hi = 1, .hi_open = 1,
   .meaning = "Uniform initial vacancy site fraction of the solid (when no file is given)",
   AT(OX_STORE_DOUBLE, CFG(initial_vacancy))},
  {.path = "initial.file", .type = OX_KEY_STRING, .unit = "", .def_str = "",
   .flags = OX_KEY_EMPTY_OK,
   .meaning = "HDF5 file with the initial field, relative to the config's folder; \"\": uniform",
   AT(OX_STORE_CHARS, CFG(initial_file))},
  {.path = "initial.dataset", .type = OX_KEY_STRING, .unit = "", .def_str = "/vacancy_fraction",
   .meaning = "Its float64 [nz][ny][nx] dataset (values in 0..1 on solid voxels; an oxvac "
              "result's /fields/cycle_N/vacancy_fraction reads directly)",
   AT(OX_STORE_CHARS, CFG(initial_dataset))},

  GROUP("mechanics", "Stress in the solid and its coupling to vacancies (docs/mechanics.md)"),
  {.path = "mechanics.enabled", .type = OX_KEY_BOOL, .unit = "", .def = 0,
   .meaning = "Solve for the stress; stored fields gain hydrostatic and von Mises stress",
   AT(OX_STORE_BOOL, CFG(mech_enabled))},
  {.path = "mechanics.young_GPa", .type = OX_KEY_NUMBER, .unit = "GPa", .def = 150.0,
   .lo = 0, .hi = 1e4, .lo_open = 1, .meaning = "Young's modulus E of the solid (isotropic)",
   AT(OX_STORE_DOUBLE, CFG(mech_young_GPa))},
  {.path = "mechanics.poisson", .type = OX_KEY_NUMBER, .unit = "1", .def = 0.3, .lo = -0.99,
   .hi = 0.49, .meaning = "Poisson's ratio nu", AT(OX_STORE_DOUBLE, CFG(mech_poisson))},
  {.path = "mechanics.vacancy_expansion", .type = OX_KEY_NUMBER, .unit = "1", .def = 0.0,
   .lo = -1, .hi = 1,
   .meaning = "beta: isotropic linear strain per unit vacancy site fraction (eigenstrain beta c)",
   AT(OX_STORE_DOUBLE, CFG(mech_vacancy_expansion))},
  INLINE_GROUP("mechanics.lattice",
               "Relative lattice parameter changes a(soc), c(soc) in each primary's crystal "
               "frame, linear in soc"),
  {.path = "mechanics.lattice.soc", .type = OX_KEY_NUMBERS, .unit = "1",
   ARRAY_DEFAULT(kLatticeSoc), UNIT_INTERVAL, .len_min = 1, .len_max = OX_TABLE_MAX,
   .flags = OX_KEY_INCREASING, .meaning = "The knots, states of charge",
   .store = {.kind = OX_STORE_DOUBLES_N, .off = CFG(mech_lattice_a.soc),
             .aux = CFG(mech_lattice_a.n)}},
  {.path = "mechanics.lattice.a", .type = OX_KEY_NUMBERS, .unit = "1",
   ARRAY_DEFAULT(kLatticeValue), .lo = -0.5, .hi = 0.5, .len_min = 1, .len_max = OX_TABLE_MAX,
   .meaning = "In-plane strain (a - a0) / a0 at each knot",
   .store = {.kind = OX_STORE_DOUBLES_N, .off = CFG(mech_lattice_a.value),
             .aux = CFG(mech_lattice_a.n)}},
  {.path = "mechanics.lattice.c", .type = OX_KEY_NUMBERS, .unit = "1",
   ARRAY_DEFAULT(kLatticeValue), .lo = -0.5, .hi = 0.5, .len_min = 1, .len_max = OX_TABLE_MAX,
   .meaning = "Strain along the c axis (c - c0) / c0 at each knot",
   .store = {.kind = OX_STORE_DOUBLES_N, .off = CFG(mech_lattice_c.value),
             .aux = CFG(mech_lattice_a.n)}},
  {.path = "mechanics.orientation", .type = OX_KEY_CHOICE, .unit = "", .def = 0,
   .choices = kOrientations,
   .meaning = "Each primary's c axis: random (uniform on the sphere, from microstructure.seed "
              "and its id) or aligned (all along z)",
   AT(OX_STORE_ENUM, CFG(mech_aligned))},
  INLINE_GROUP("mechanics.coupling", "How the hydrostatic stress acts on the vacancies"),
  {.path = "mechanics.coupling.eq_volume_A3", .type = OX_KEY_NUMBER, .unit = "A^3", .def = 0.0,
   .lo = -1000, .hi = 1000,
   .meaning = "V_eq: c_eq -> c_eq exp(V_eq sigma_h / kT), sigma_h tension positive",
   AT(OX_STORE_DOUBLE, CFG(mech_eq_volume_A3))},
  {.path = "mechanics.coupling.diffusion_volume_A3", .type = OX_KEY_NUMBER, .unit = "A^3",
   .def = 0.0, .lo = -1000, .hi = 1000,
   .meaning = "V_D: D -> D exp(V_D sigma_h / kT) (at each face, sigma_h of its two voxels "
              "averaged)",
   AT(OX_STORE_DOUBLE, CFG(mech_diffusion_volume_A3))},
  {.path = "mechanics.coupling.temperature_K", .type = OX_KEY_NUMBER, .unit = "K",
   .def = 298.15, .lo = 1, .hi = 5000, .meaning = "Temperature T of kT",
   AT(OX_STORE_DOUBLE, CFG(mech_temperature_K))},
  {.path = "mechanics.update_tolerance", .type = OX_KEY_NUMBER, .unit = "1", .def = 1e-3,
   .lo = 0, .hi = 1, .lo_open = 1,
   .meaning = "The vacancy part of the stress is solved again when c moved this much "
              "(largest change per voxel since the last solve) and at every cycle end",
   AT(OX_STORE_DOUBLE, CFG(mech_update_tolerance))},
};

#define NKEYS N_OF(kKeys)

/* ------------------------------------------------------------------------ */
/* Lookup                                                                   */
/* ------------------------------------------------------------------------ */

int OxConfigKeyCount(void) { return NKEYS; }

const OxConfigKey *OxConfigKeyAt(int i) { return i >= 0 && i < NKEYS ? &kKeys[i] : NULL; }

/** path with every "[N]" written "[]", into out; 0 when it does not fit. */
static int Normalize(const char *path, char *out, size_t len)
{
  size_t n = 0;
  for (const char *p = path; *p; p++) {
    if (n + 3 > len) return 0;
    out[n++] = *p;
    if (*p == '[') {
      const char *q = p + 1;
      while (*q >= '0' && *q <= '9') q++;
      if (*q == ']') p = q - 1; /* drop the digits */
    }
  }
  out[n] = '\0';
  return 1;
}

const OxConfigKey *OxConfigKeyFind(const char *path)
{
  char norm[PATH_LEN];
  if (!Normalize(path, norm, sizeof norm)) return NULL;
  for (int i = 0; i < NKEYS; i++)
    if (!strcmp(kKeys[i].path, norm)) return &kKeys[i];
  return NULL;
}

const char *OxConfigKeyName(const OxConfigKey *k)
{
  const char *dot = strrchr(k->path, '.');
  return dot ? dot + 1 : k->path;
}

int OxConfigKeyAccepts(const OxConfigKey *k, const char *variant)
{
  if (!k->only || !variant) return 1;
  size_t n = strlen(variant);
  for (const char *p = k->only; *p;) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len == n && !strncmp(p, variant, n)) return 1;
    if (!bar) break;
    p = bar + 1;
  }
  return 0;
}

int OxConfigKeyChildren(const char *group, const char *variant, const OxConfigKey **kids, int max)
{
  char norm[PATH_LEN];
  int n = 0;
  if (!Normalize(group, norm, sizeof norm)) return 0;
  size_t len = strlen(norm);
  for (int i = 0; i < NKEYS && n < max; i++) {
    const char *p = kKeys[i].path;
    if (len && (strncmp(p, norm, len) || p[len] != '.')) continue;
    const char *name = len ? p + len + 1 : p;
    if (strchr(name, '.') || !OxConfigKeyAccepts(&kKeys[i], variant)) continue;
    kids[n++] = &kKeys[i];
  }
  return n;
}

/* ------------------------------------------------------------------------ */
/* Ranges and defaults as text                                              */
/* ------------------------------------------------------------------------ */

int OxConfigKeyInRange(const OxConfigKey *k, double v)
{
  if (!isfinite(v)) return 0;
  if (k->flags & OX_KEY_MAGNITUDE) v = fabs(v);
  if (k->lo_open ? !(v > k->lo) : !(v >= k->lo)) return 0;
  return k->hi_open ? v < k->hi : v <= k->hi;
}

static int IsInteger(const OxConfigKey *k)
{
  return k->type == OX_KEY_INTEGER || k->type == OX_KEY_INTEGERS;
}

void OxConfigKeyRangeText(const OxConfigKey *k, char *buf, size_t len)
{
  /* An integer is an int (or a long): its upper bound INT_MAX goes without saying. */
  int has_lo = k->lo > -INF, has_hi = k->hi < INF && !(IsInteger(k) && k->hi >= INT_MAX);
  const char *note = k->range_note ? k->range_note : "";
  if ((k->flags & OX_KEY_MAGNITUDE) && has_lo && has_hi)
    snprintf(buf, len, " of either sign, magnitude in %c%.15g, %.15g%c%s", k->lo_open ? '(' : '[',
             k->lo, k->hi, k->hi_open ? ')' : ']', note);
  else if (has_lo && has_hi)
    snprintf(buf, len, " in %c%.15g, %.15g%c%s", k->lo_open ? '(' : '[', k->lo, k->hi,
             k->hi_open ? ')' : ']', note);
  else if (has_lo)
    snprintf(buf, len, " %s %.15g%s", k->lo_open ? ">" : ">=", k->lo, note);
  else if (has_hi)
    snprintf(buf, len, " %s %.15g%s", k->hi_open ? "<" : "<=", k->hi, note);
  else snprintf(buf, len, "%s", note);
}

void OxFormatNumber(double v, char *buf, size_t len)
{
  char s[40];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(s, sizeof s, "%.*g", prec, v);
    if (strtod(s, NULL) == v) break;
  }
  snprintf(buf, len, "%s%s", s, strpbrk(s, ".eE") ? "" : ".0");
}

/** Append printf text to buf (size len, holding a string). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void Append(char *buf, size_t len, const char *fmt, ...)
{
  size_t n = strlen(buf);
  if (n + 1 >= len) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + n, len - n, fmt, ap);
  va_end(ap);
}

/** "[0.0, 0.8, 1.0]" (numbers) or "[1, 125, 500]" (integers), as the printer writes arrays. */
static void ArrayText(const double *v, int n, int integers, char *buf, size_t len)
{
  snprintf(buf, len, "[");
  for (int i = 0; i < n; i++) {
    char num[48];
    if (integers) snprintf(num, sizeof num, "%.0f", v[i]);
    else OxFormatNumber(v[i], num, sizeof num);
    Append(buf, len, "%s%s", i ? ", " : "", num);
  }
  Append(buf, len, "]");
}

void OxConfigKeyDefaultText(const OxConfigKey *k, char *buf, size_t len)
{
  buf[0] = '\0';
  if (k->type == OX_KEY_GROUP) {
    snprintf(buf, len, "%s", k->def_kind == OX_DEF_REQUIRED ? "required"
                             : k->def_kind == OX_DEF_NONE   ? "none"
                                                            : "");
    return;
  }
  if (k->def_kind == OX_DEF_REQUIRED) {
    snprintf(buf, len, "required");
    return;
  }
  if (k->def_kind == OX_DEF_NONE) {
    snprintf(buf, len, "none");
    return;
  }
  switch (k->type) {
  case OX_KEY_NUMBER: OxFormatNumber(k->def, buf, len); break;
  case OX_KEY_INTEGER: snprintf(buf, len, "%.0f", k->def); break;
  case OX_KEY_BOOL: snprintf(buf, len, "%s", k->def ? "true" : "false"); break;
  case OX_KEY_STRING: snprintf(buf, len, "\"%s\"", k->def_str ? k->def_str : ""); break;
  case OX_KEY_CHOICE: snprintf(buf, len, "\"%s\"", k->choices[(int)k->def]); break;
  case OX_KEY_NUMBERS:
  case OX_KEY_INTEGERS: ArrayText(k->def_vals, k->def_n, IsInteger(k), buf, len); break;
  case OX_KEY_TABLE: {
    const OxConfigKey *kids[2];
    char arr[512];
    if (OxConfigKeyChildren(k->path, NULL, kids, 2) != 2) break;
    snprintf(buf, len, "{");
    for (int i = 0; i < 2; i++) {
      ArrayText(kids[i]->def_vals, kids[i]->def_n, 0, arr, sizeof arr);
      Append(buf, len, " %s = %s;", OxConfigKeyName(kids[i]), arr);
    }
    Append(buf, len, " }");
    break;
  }
  case OX_KEY_LIST:
  case OX_KEY_GROUP: break;
  }
}

/* ------------------------------------------------------------------------ */
/* oxvac help config                                                        */
/* ------------------------------------------------------------------------ */

/** "a number array of 3", ... : what a value of k looks like. */
static void TypeText(const OxConfigKey *k, char *buf, size_t len)
{
  const char *noun = k->type == OX_KEY_INTEGERS ? "integers" : "numbers";
  switch (k->type) {
  case OX_KEY_GROUP: snprintf(buf, len, "group"); break;
  case OX_KEY_NUMBER: snprintf(buf, len, "number"); break;
  case OX_KEY_INTEGER: snprintf(buf, len, "integer"); break;
  case OX_KEY_BOOL: snprintf(buf, len, "boolean"); break;
  case OX_KEY_STRING: snprintf(buf, len, "string"); break;
  case OX_KEY_CHOICE: snprintf(buf, len, "choice"); break;
  case OX_KEY_NUMBERS:
  case OX_KEY_INTEGERS:
    if (k->len_min == k->len_max) snprintf(buf, len, "array of %d %s", k->len_min, noun);
    else if (k->len_max == INT_MAX && k->len_min == 0) snprintf(buf, len, "array of %s", noun);
    else if (k->len_max == INT_MAX) snprintf(buf, len, "array of %d or more %s", k->len_min, noun);
    else snprintf(buf, len, "array of %d to %d %s", k->len_min, k->len_max, noun);
    break;
  case OX_KEY_TABLE: snprintf(buf, len, "table of %d to %d knots", k->len_min, k->len_max); break;
  case OX_KEY_LIST:
    snprintf(buf, len, "list of groups");
    break;
  }
}

/** What values k takes, for the help: "> 0", "\"x\", \"y\", \"z\"", ... */
static void AllowedText(const OxConfigKey *k, char *buf, size_t len)
{
  char cond[256];
  buf[0] = '\0';
  switch (k->type) {
  case OX_KEY_GROUP: break;
  case OX_KEY_NUMBER:
  case OX_KEY_INTEGER:
  case OX_KEY_NUMBERS:
  case OX_KEY_INTEGERS:
    OxConfigKeyRangeText(k, cond, sizeof cond);
    snprintf(buf, len, "%s", cond[0] == ' ' ? cond + 1 : cond[0] ? cond : "any");
    if (k->flags & OX_KEY_NONZERO) Append(buf, len, ", not 0");
    if (k->flags & OX_KEY_INCREASING) Append(buf, len, ", strictly increasing");
    break;
  case OX_KEY_BOOL: snprintf(buf, len, "true or false"); break;
  case OX_KEY_STRING: snprintf(buf, len, (k->flags & OX_KEY_EMPTY_OK) ? "any" : "not empty"); break;
  case OX_KEY_CHOICE:
    for (int i = 0; k->choices[i]; i++) Append(buf, len, "%s\"%s\"", i ? ", " : "", k->choices[i]);
    break;
  case OX_KEY_TABLE: snprintf(buf, len, "one value per soc knot"); break;
  case OX_KEY_LIST:
    if (k->len_min > 0)
      snprintf(buf, len, "at least %d element%s", k->len_min, k->len_min > 1 ? "s" : "");
    break;
  }
}

/** The key of k's group that selects its variant ("type"), or NULL. */
static const OxConfigKey *VariantKey(const OxConfigKey *k)
{
  char group[PATH_LEN];
  const OxConfigKey *kids[KIDS_MAX];
  snprintf(group, sizeof group, "%s", k->path);
  char *dot = strrchr(group, '.');
  if (!dot) return NULL;
  *dot = '\0';
  int n = OxConfigKeyChildren(group, NULL, kids, KIDS_MAX);
  for (int i = 0; i < n; i++)
    if (kids[i]->flags & OX_KEY_VARIANT) return kids[i];
  return NULL;
}

/** The meaning, with when the key applies and what may replace it. */
static void MeaningText(const OxConfigKey *k, int markdown, char *buf, size_t len)
{
  const char *q = markdown ? "`" : "";
  snprintf(buf, len, "%s.", k->meaning);
  const OxConfigKey *v = k->only ? VariantKey(k) : NULL;
  if (v) {
    Append(buf, len, " Only with %s%s%s = ", q, OxConfigKeyName(v), q);
    const char *p = k->only;
    while (*p) {
      const char *bar = strchr(p, '|');
      int n = bar ? (int)(bar - p) : (int)strlen(p);
      Append(buf, len, "\"%.*s\"", n, p);
      if (!bar) break;
      p = bar + 1;
      Append(buf, len, strchr(p, '|') ? ", " : " or ");
    }
    Append(buf, len, ".");
  }
  if (k->alt) {
    char alt[PATH_LEN];
    snprintf(alt, sizeof alt, "%s", k->path);
    char *dot = strrchr(alt, '.');
    if (dot) dot[1] = '\0';
    Append(buf, len, " Or give %s%s%s%s instead.", q, dot ? alt : "", k->alt, q);
  }
}

/** The top-level section of k ("grid" of "grid.shape"), into out. */
static void SectionOf(const OxConfigKey *k, char *out, size_t len)
{
  size_t n = strcspn(k->path, ".");
  snprintf(out, len, "%.*s", (int)n, k->path);
}

static const char kIntroText[] =
  "A config is a libconfig file of the groups below (docs/interface.md section 3). Units are in\n"
  "the key names. A \"required\" key must be given when its group (or its microstructure\n"
  "or step type) is used; \"none\" means the key may be left out and then has no value;\n"
  "every other key has the default shown, as `oxvac check CONFIG` prints it. Unknown keys\n"
  "are an error. `[]` stands for any element of a list:\n"
  "`--set protocol.cycling.steps.[0].rate_C=2.0` sets that key of the first step. A table\n"
  "is `{ soc = [...]; value = [...]; }`: soc strictly increasing in [0, 1], one value per\n"
  "knot, the end values outside the knots; `--set material.diffusivity_cm2_s.value=[...]`\n"
  "changes only its values (and `.soc` only its knots).\n";

static void HelpText(FILE *out)
{
  char section[PATH_LEN] = "", type[128], def[1024], allowed[512], meaning[1024];
  fprintf(out, "oxvac config keys\n\n%s", kIntroText);
  for (int i = 0; i < NKEYS; i++) {
    const OxConfigKey *k = &kKeys[i];
    char sec[PATH_LEN];
    SectionOf(k, sec, sizeof sec);
    MeaningText(k, 0, meaning, sizeof meaning);
    if (strcmp(sec, section)) {
      snprintf(section, sizeof section, "%s", sec);
      fprintf(out, "\n%s: %s\n", k->path, meaning);
      continue;
    }
    TypeText(k, type, sizeof type);
    OxConfigKeyDefaultText(k, def, sizeof def);
    AllowedText(k, allowed, sizeof allowed);
    fprintf(out, "  %s%s%s\n", k->path, def[0] ? " = " : "", def);
    fprintf(out, "      %s%s%s%s%s%s\n", type, k->unit[0] ? " [" : "", k->unit,
            k->unit[0] ? "]" : "", allowed[0] ? "; " : "", allowed);
    fprintf(out, "      %s\n", meaning);
  }
}

static void HelpMarkdown(FILE *out)
{
  char section[PATH_LEN] = "", type[128], def[1024], allowed[512], meaning[1024];
  fprintf(out, "_Generated by `oxvac help config --markdown` from the key table in "
               "src/config_keys.c; do not edit by hand: regenerate with "
               "`cmake --build build --target config-reference`._\n\n");
  fprintf(out, "# Config reference\n\n");
  fputs(kIntroText, out);
  for (int i = 0; i < NKEYS; i++) {
    const OxConfigKey *k = &kKeys[i];
    char sec[PATH_LEN];
    SectionOf(k, sec, sizeof sec);
    MeaningText(k, 1, meaning, sizeof meaning);
    if (strcmp(sec, section)) {
      snprintf(section, sizeof section, "%s", sec);
      fprintf(out, "\n## `%s`\n\n%s\n\n", k->path, meaning);
      fprintf(out, "| Key | Type | Unit | Default | Allowed | Meaning |\n");
      fprintf(out, "|---|---|---|---|---|---|\n");
      continue;
    }
    TypeText(k, type, sizeof type);
    OxConfigKeyDefaultText(k, def, sizeof def);
    AllowedText(k, allowed, sizeof allowed);
    int literal = def[0] && strcmp(def, "required") && strcmp(def, "none");
    fprintf(out, "| `%s` | %s | %s | %s%s%s | %s | %s |\n", k->path, type,
            k->unit[0] ? k->unit : "-", literal ? "`" : "", def[0] ? def : "-", literal ? "`" : "",
            allowed[0] ? allowed : "-", meaning);
  }
}

void OxConfigHelp(FILE *out, int markdown)
{
  if (markdown) HelpMarkdown(out);
  else HelpText(out);
}
