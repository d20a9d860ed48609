/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "wz-formulary.h"

G_BEGIN_DECLS

typedef struct
{
  guint total;
  guint added;
  guint changed;
  guint removed;
  guint unchanged;
} WzFormularyImportCounts;

#define WZ_TYPE_FORMULARY_STORE (wz_formulary_store_get_type ())
G_DECLARE_FINAL_TYPE (WzFormularyStore, wz_formulary_store, WZ, FORMULARY_STORE, GObject)

/* The server's prescription reference data, in its own SQLite file DATA_DIR/formulary.db:
 *  - drug: the imported formulary, one row per product (its CSV fields);
 *  - import_log: when, from which file (name and SHA-256), and the counts of each import;
 *  - signing_key: each doctor's registered Ed25519 public keys, the newest one current; older
 *    ones are kept (superseded_at set) so earlier signatures stay verifiable.
 * The interaction table, the allergy classes and the ICD-10 list come with the program
 * (CLINICAL_DIR, normally the installed data/clinical). Until a formulary is imported, the
 * sample formulary.csv shipped there is used, and a message says so. Calls belong to the
 * thread that opened the store. */
WzFormularyStore *wz_formulary_store_open          (const char        *data_dir,
                                                    const char        *clinical_dir,
                                                    GError           **error);
/* The formulary with every table loaded and indexed; reloaded when another process (a
 * `formulary import` while the server runs) has committed a new one. Borrowed. */
WzFormulary      *wz_formulary_store_get           (WzFormularyStore  *self,
                                                    GError           **error);
/* Whether the formulary in use is the shipped sample (nothing imported yet). */
gboolean          wz_formulary_store_is_sample     (WzFormularyStore  *self);
/* Validates DATA (formulary CSV) completely, then replaces the imported formulary in one
 * transaction. A bad row fails with every problem listed and changes nothing. */
gboolean          wz_formulary_store_import        (WzFormularyStore        *self,
                                                    const char              *file_name,
                                                    const char              *data,
                                                    gsize                    length,
                                                    WzFormularyImportCounts *out_counts,
                                                    GError                 **error);
/* Makes PUBLIC_KEY (base64 Ed25519) the current key of PRACTITIONER ("Practitioner/ID"). */
gboolean          wz_formulary_store_register_key  (WzFormularyStore  *self,
                                                    const char        *practitioner,
                                                    const char        *public_key,
                                                    GError           **error);
/* The current key of PRACTITIONER, or NULL (no error) when none is registered. */
char             *wz_formulary_store_current_key   (WzFormularyStore  *self,
                                                    const char        *practitioner,
                                                    GError           **error);
/* Whether PUBLIC_KEY was ever registered for PRACTITIONER. */
gboolean          wz_formulary_store_key_was_registered (WzFormularyStore *self,
                                                         const char       *practitioner,
                                                         const char       *public_key,
                                                         GError          **error);

/* `wenzhen-server formulary import --data-dir DIR FILE.csv`: ARGV[0] is "import". Prints the
 * counts; exit status 1 and nothing changed on any bad row, 2 on bad usage. */
int               wz_formulary_store_command       (int                argc,
                                                    char             **argv);

G_END_DECLS
