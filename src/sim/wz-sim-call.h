/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "wz-call.h"
#include "wz-sim-patient.h"

G_BEGIN_DECLS

#define WZ_TYPE_SIM_CALL (wz_sim_call_get_type ())
G_DECLARE_FINAL_TYPE (WzSimCall, wz_sim_call, WZ, SIM_CALL, GObject)

/* The simulated patient's side of video calls: when the doctor calls, it lets it ring for a
 * moment, records its consent to the video visit (as the patient page does), and answers with
 * a moving test picture (a bouncing ball with the time on it) and a steady tone. One call at a
 * time; a second caller gets "busy". The doctor's sound is not played. */
WzSimCall *wz_sim_call_new      (WzSimPatient *patient);
/* (nullable): the call in progress or the last one. */
WzCall    *wz_sim_call_get_call (WzSimCall    *self);

G_END_DECLS
