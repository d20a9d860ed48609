/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gst/gst.h>

#include "wz-call.h"

G_BEGIN_DECLS

/* Running totals from the previous webrtcbin stats report, so rates cover one interval. */
typedef struct
{
  gint64  time_us;
  guint64 bytes_in;
  guint64 bytes_out;
  guint64 packets_received;
  gint64  packets_lost;
  guint64 packets_received_at_change;
  gint64  time_last_received_us;
  gboolean valid;
} WzCallStatsTotals;

/* Folds REPORT (the reply of webrtcbin's get-stats) into STATS: bitrates over the time since
 * PREVIOUS, loss over the same interval, RTT and jitter, then the quality. Frame and packet
 * counters in STATS are left to the caller. */
void          wz_call_stats_update (WzCallStats        *stats,
                                    WzCallStatsTotals  *previous,
                                    const GstStructure *report,
                                    gint64              now_us);
/* The quality the figures in STATS add up to; RECEIVING_FOR_US is how long nothing has been
 * received (0 = receiving). */
WzCallQuality wz_call_stats_judge  (const WzCallStats  *stats,
                                    gint64              silent_us);

G_END_DECLS
