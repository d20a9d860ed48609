/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Fills an empty DATA_DIR with a demo clinic: users doctor (李伟 Li Wei), pharmacist (王芳 Wang
 * Fang) and admin, all with PASSWORD; N_PATIENTS patients of the doctor (their
 * generalPractitioner; a child under 6 with a guardian, elderly patients) with allergies and
 * conditions; today's appointments and virtual encounters with the doctor in several states.
 * When N_PATIENTS > 0 a second doctor, doctor2 (张敏 Zhang Min), has two patients of their own
 * with a visit each, which the first doctor cannot see. Refuses a data directory that already
 * holds data. */
gboolean wz_demo_data_create (const char  *data_dir,
                              guint        n_patients,
                              const char  *password,
                              GError     **error);

G_END_DECLS
