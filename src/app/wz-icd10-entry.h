/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define WZ_ICD10_SYSTEM "http://hl7.org/fhir/sid/icd-10"

#define WZ_TYPE_ICD10_ENTRY (wz_icd10_entry_get_type ())

G_DECLARE_FINAL_TYPE (WzIcd10Entry, wz_icd10_entry, WZ, ICD10_ENTRY, GObject)

WzIcd10Entry *wz_icd10_entry_new          (const char   *code,
                                           const char   *title_en,
                                           const char   *title_zh);
const char   *wz_icd10_entry_get_code     (WzIcd10Entry *self);
const char   *wz_icd10_entry_get_title_en (WzIcd10Entry *self);
const char   *wz_icd10_entry_get_title_zh (WzIcd10Entry *self);
/* The title in the language of the user interface, the other one after it when known. */
char         *wz_icd10_entry_dup_title    (WzIcd10Entry *self);

G_END_DECLS
