/* Internal: splitmix64 (Steele, Lea and Flood, 2014), the one 64-bit mixer of
 * the program, plain C: the per-particle streams of src/microstructure.c, the
 * seeding of the generator's xoshiro256** (src/generate.c), the Latin
 * hypercube of src/sweep_file.c and the hash buckets of src/import.c. Its
 * values are part of every result (seeds give the same microstructure and
 * sweep points everywhere): do not change them. Not part of the public headers. */
#ifndef OXVAC_SPLITMIX_H
#define OXVAC_SPLITMIX_H

#include <stdint.h>

/* The splitmix64 output for state x: x advanced by the golden gamma, then mixed. */
static inline uint64_t OxSplitMix64(uint64_t x)
{
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/* The next value of the stream with state *state (which advances). */
static inline uint64_t OxSplitMix64Next(uint64_t *state)
{
  uint64_t z = OxSplitMix64(*state);
  *state += 0x9E3779B97F4A7C15ULL;
  return z;
}

/* The top 53 bits of x as a double in the open interval (0, 1). */
static inline double OxUnitOpen(uint64_t x) { return ((double)(x >> 11) + 0.5) / 9007199254740992.0; }

#endif
