/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Where an entry of the follow-up worklist stands. */
typedef enum
{
  WZ_FOLLOWUP_GROUP_OVERDUE,
  WZ_FOLLOWUP_GROUP_TODAY,
  WZ_FOLLOWUP_GROUP_UPCOMING,
} WzFollowupGroup;

#define WZ_TYPE_FOLLOWUP_ENTRY (wz_followup_entry_get_type ())

G_DECLARE_FINAL_TYPE (WzFollowupEntry, wz_followup_entry, WZ, FOLLOWUP_ENTRY, GObject)

/* One line of the worklist: a group heading, or a patient with what is due in that group
 * (Tasks as the server's worklist gives them) and, on the patient's first line, the readings
 * against their targets. */
WzFollowupEntry    *wz_followup_entry_new_heading    (WzFollowupGroup     group,
                                                      guint               n_patients);
WzFollowupEntry    *wz_followup_entry_new_patient    (WzFollowupGroup     group,
                                                      const char         *patient_ref,
                                                      const char         *name,
                                                      const char         *alert,
                                                      JsonArray          *tasks,
                                                      JsonArray          *measurements,
                                                      const char         *today);
gboolean            wz_followup_entry_is_heading     (WzFollowupEntry    *self);
WzFollowupGroup     wz_followup_entry_get_group      (WzFollowupEntry    *self);
guint               wz_followup_entry_get_n_patients (WzFollowupEntry    *self);
const char         *wz_followup_entry_get_patient    (WzFollowupEntry    *self);
const char         *wz_followup_entry_get_patient_id (WzFollowupEntry    *self);
const char         *wz_followup_entry_get_name       (WzFollowupEntry    *self);
/* "urgent", "flagged" or "none". */
/* The worklist's date (YYYY-MM-DD in the clinic's zone) the timings refer to. */
const char         *wz_followup_entry_get_today      (WzFollowupEntry    *self);
const char         *wz_followup_entry_get_alert      (WzFollowupEntry    *self);
/* JsonObject tasks and measurements of the worklist's shape; may be NULL. */
JsonArray          *wz_followup_entry_get_tasks      (WzFollowupEntry    *self);
JsonArray          *wz_followup_entry_get_measurements (WzFollowupEntry  *self);
/* Sex and age, once the Patient was read ("" until then). */
const char         *wz_followup_entry_get_details    (WzFollowupEntry    *self);
void                wz_followup_entry_set_details    (WzFollowupEntry    *self,
                                                      const char         *details);
const char * const *wz_followup_entry_get_allergies  (WzFollowupEntry    *self);
void                wz_followup_entry_set_allergies  (WzFollowupEntry    *self,
                                                      const char * const *allergies);

G_END_DECLS
