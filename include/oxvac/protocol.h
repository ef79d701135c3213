/**
 * @file protocol.h
 * @brief The cycling protocol turned into state of charge s(t) and the
 *        effective material parameters D, k, c_eq at any time.
 *
 * Owns: expanding formation and cycling blocks into a flat list of segments
 * (one per step execution) with exact start and end times, s(t) inside each,
 * and the parameters at any time (through the parameter law of material.h).
 * The integrator stops exactly at every segment end. Plain C, no PETSc.
 */
#ifndef OXVAC_PROTOCOL_H
#define OXVAC_PROTOCOL_H

#include "oxvac/config.h"
#include "oxvac/material.h"

/** One execution of one step. */
typedef struct {
  double t0_s, t1_s;   /**< start and end time (t1_s >= t0_s; equal for an instantaneous step) */
  double s0, s1;       /**< soc at start (after a hold's jump) and at end */
  int cycle;           /**< 0 during formation, 1..N during cycling */
  int formation_cycle; /**< 1..M during formation, 0 otherwise */
  int step_index;      /**< index of the step inside its block */
  int last_of_cycle;   /**< 1 when this segment ends a (formation or cycling) pass */
  const OxStep *step;
} OxSegment;

typedef struct {
  int nseg;
  OxSegment *seg;
  double initial_soc;
  const OxConfig *cfg; /**< borrowed: must outlive the protocol */
} OxProtocol;


/**
 * @brief Expand the protocol of cfg into segments.
 * @param[out] err message "FILE:LINE: key 'protocol....': ...; ..." on failure
 * @return 0, or 2 on an input error (e.g. a cc step whose rate points away from until_soc)
 */
int OxProtocolCreate(const OxConfig *cfg, OxProtocol *p, char *err, size_t errlen);
void OxProtocolDestroy(OxProtocol *p);

/** @brief soc inside segment g at time t (clamped to the segment). */
double OxProtocolSoc(const OxProtocol *p, int g, double t_s);

/** @brief Effective parameters inside segment g at time t. */
void OxProtocolParams(const OxProtocol *p, int g, double t_s, OxParams *out);

/** @brief Total simulated time of the protocol in seconds. */
double OxProtocolEndTime(const OxProtocol *p);

/** @brief Number of cycling passes (cycles) the protocol contains. */
int OxProtocolNumCycles(const OxProtocol *p);

/**
 * @brief Segment in which time t_s lies: the first whose end is after t_s
 *        (a step end belongs to the next step), the last one at or past the
 *        end of the protocol, -1 when there are no segments.
 */
int OxProtocolSegmentAt(const OxProtocol *p, double t_s);

#endif
