/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-call"

#include "config.h"

#include "wz-call-stats.h"

#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

G_DEFINE_BOXED_TYPE (WzCallStats, wz_call_stats, wz_call_stats_copy, wz_call_stats_free)

WzCallStats *
wz_call_stats_copy (const WzCallStats *stats)
{
  return g_memdup2 (stats, sizeof *stats);
}

void
wz_call_stats_free (WzCallStats *stats)
{
  g_free (stats);
}

/* webrtcbin reports counters as guint64, gint64, guint or double depending on the field. */
static gboolean
number_field (const GstStructure *s,
              const char         *name,
              double             *value)
{
  const GValue *v = gst_structure_get_value (s, name);

  if (v == NULL)
    return FALSE;
  if (G_VALUE_HOLDS_UINT64 (v))
    *value = (double) g_value_get_uint64 (v);
  else if (G_VALUE_HOLDS_INT64 (v))
    *value = (double) g_value_get_int64 (v);
  else if (G_VALUE_HOLDS_UINT (v))
    *value = g_value_get_uint (v);
  else if (G_VALUE_HOLDS_INT (v))
    *value = g_value_get_int (v);
  else if (G_VALUE_HOLDS_DOUBLE (v))
    *value = g_value_get_double (v);
  else
    return FALSE;
  return TRUE;
}

typedef struct
{
  guint64 bytes_in;
  guint64 bytes_out;
  guint64 packets_received;
  gint64  packets_lost;
  double  jitter_s;
  double  rtt_s;
  gboolean have_rtt;
} Sums;

static gboolean
add_entry (GQuark        field,
           const GValue *value,
           gpointer      user_data)
{
  Sums *sums = user_data;
  const GstStructure *s;
  GstWebRTCStatsType type;
  double number;

  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  s = gst_value_get_structure (value);
  if (!gst_structure_get_enum (s, "type", GST_TYPE_WEBRTC_STATS_TYPE, (int *) &type))
    return TRUE;

  switch (type)
    {
    case GST_WEBRTC_STATS_INBOUND_RTP:
      if (number_field (s, "bytes-received", &number))
        sums->bytes_in += (guint64) number;
      if (number_field (s, "packets-received", &number))
        sums->packets_received += (guint64) number;
      if (number_field (s, "packets-lost", &number))
        sums->packets_lost += (gint64) number;
      if (number_field (s, "jitter", &number))
        sums->jitter_s = MAX (sums->jitter_s, number);
      break;
    case GST_WEBRTC_STATS_OUTBOUND_RTP:
      if (number_field (s, "bytes-sent", &number))
        sums->bytes_out += (guint64) number;
      break;
    case GST_WEBRTC_STATS_REMOTE_INBOUND_RTP:
      if (number_field (s, "round-trip-time", &number) && number > 0)
        {
          sums->rtt_s = sums->have_rtt ? MAX (sums->rtt_s, number) : number;
          sums->have_rtt = TRUE;
        }
      break;
    case GST_WEBRTC_STATS_CODEC:
    case GST_WEBRTC_STATS_REMOTE_OUTBOUND_RTP:
    case GST_WEBRTC_STATS_CSRC:
    case GST_WEBRTC_STATS_PEER_CONNECTION:
    case GST_WEBRTC_STATS_DATA_CHANNEL:
    case GST_WEBRTC_STATS_STREAM:
    case GST_WEBRTC_STATS_TRANSPORT:
    case GST_WEBRTC_STATS_CANDIDATE_PAIR:
    case GST_WEBRTC_STATS_LOCAL_CANDIDATE:
    case GST_WEBRTC_STATS_REMOTE_CANDIDATE:
    case GST_WEBRTC_STATS_CERTIFICATE:
    default:
      break;
    }
  return TRUE;
}

void
wz_call_stats_update (WzCallStats        *stats,
                      WzCallStatsTotals  *previous,
                      const GstStructure *report,
                      gint64              now_us)
{
  Sums sums = { 0 };

  g_return_if_fail (stats != NULL && previous != NULL && report != NULL);

  gst_structure_foreach (report, add_entry, &sums);

  if (previous->valid && now_us > previous->time_us)
    {
      double seconds = (double) (now_us - previous->time_us) / G_USEC_PER_SEC;
      gint64 received = (gint64) sums.packets_received - (gint64) previous->packets_received;
      gint64 lost = sums.packets_lost - previous->packets_lost;

      if (sums.bytes_in >= previous->bytes_in)
        stats->bitrate_in_kbps = (double) (sums.bytes_in - previous->bytes_in) * 8 / 1000 / seconds;
      if (sums.bytes_out >= previous->bytes_out)
        stats->bitrate_out_kbps = (double) (sums.bytes_out - previous->bytes_out) * 8 / 1000 / seconds;
      /* Late packets can make the lost counter go down again; that is no loss. */
      if (received + MAX (lost, 0) > 0)
        stats->loss_percent = 100.0 * (double) MAX (lost, 0) / (double) (received + MAX (lost, 0));
      else
        stats->loss_percent = 0;
    }
  if (sums.packets_received != previous->packets_received || !previous->valid)
    previous->time_last_received_us = now_us;

  stats->jitter_ms = sums.jitter_s * 1000;
  stats->rtt_ms = sums.have_rtt ? sums.rtt_s * 1000 : -1;

  previous->time_us = now_us;
  previous->bytes_in = sums.bytes_in;
  previous->bytes_out = sums.bytes_out;
  previous->packets_received = sums.packets_received;
  previous->packets_lost = sums.packets_lost;
  previous->valid = TRUE;

  stats->quality = wz_call_stats_judge (stats, sums.packets_received > 0
                                                 ? now_us - previous->time_last_received_us
                                                 : 0);
}

WzCallQuality
wz_call_stats_judge (const WzCallStats *stats,
                     gint64             silent_us)
{
  g_return_val_if_fail (stats != NULL, WZ_CALL_QUALITY_UNKNOWN);

  if (silent_us >= 3 * G_USEC_PER_SEC)
    return WZ_CALL_QUALITY_POOR;
  if (stats->bitrate_in_kbps <= 0 && stats->rtt_ms < 0)
    return WZ_CALL_QUALITY_UNKNOWN;
  if (stats->loss_percent > 8 || stats->rtt_ms > 400 || stats->jitter_ms > 60)
    return WZ_CALL_QUALITY_POOR;
  if (stats->loss_percent >= 2 || stats->rtt_ms >= 200 || stats->jitter_ms >= 30)
    return WZ_CALL_QUALITY_FAIR;
  return WZ_CALL_QUALITY_GOOD;
}
