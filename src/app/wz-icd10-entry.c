/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-icd10-entry"

#include "config.h"

#include "wz-icd10-entry.h"

/* One code of the shipped ICD-10 list: a search result and a diagnosis in the visit note. */
struct _WzIcd10Entry
{
  GObject  parent_instance;

  char    *code;
  char    *title_en;
  char    *title_zh;
};

G_DEFINE_FINAL_TYPE (WzIcd10Entry, wz_icd10_entry, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CODE,
  PROP_TITLE_EN,
  PROP_TITLE_ZH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
wz_icd10_entry_finalize (GObject *object)
{
  WzIcd10Entry *self = WZ_ICD10_ENTRY (object);

  g_free (self->code);
  g_free (self->title_en);
  g_free (self->title_zh);

  G_OBJECT_CLASS (wz_icd10_entry_parent_class)->finalize (object);
}

static void
wz_icd10_entry_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  WzIcd10Entry *self = WZ_ICD10_ENTRY (object);

  switch (prop_id)
    {
    case PROP_CODE:
      g_value_set_string (value, self->code);
      break;
    case PROP_TITLE_EN:
      g_value_set_string (value, self->title_en);
      break;
    case PROP_TITLE_ZH:
      g_value_set_string (value, self->title_zh);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_icd10_entry_class_init (WzIcd10EntryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = wz_icd10_entry_finalize;
  object_class->get_property = wz_icd10_entry_get_property;

  properties[PROP_CODE] =
    g_param_spec_string ("code", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_TITLE_EN] =
    g_param_spec_string ("title-en", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_TITLE_ZH] =
    g_param_spec_string ("title-zh", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
wz_icd10_entry_init (WzIcd10Entry *self)
{
}

WzIcd10Entry *
wz_icd10_entry_new (const char *code,
                    const char *title_en,
                    const char *title_zh)
{
  WzIcd10Entry *self;

  g_return_val_if_fail (code != NULL, NULL);

  self = g_object_new (WZ_TYPE_ICD10_ENTRY, NULL);
  self->code = g_strdup (code);
  self->title_en = g_strdup (title_en != NULL ? title_en : "");
  self->title_zh = g_strdup (title_zh != NULL ? title_zh : "");

  return self;
}

const char *
wz_icd10_entry_get_code (WzIcd10Entry *self)
{
  g_return_val_if_fail (WZ_IS_ICD10_ENTRY (self), NULL);

  return self->code;
}

const char *
wz_icd10_entry_get_title_en (WzIcd10Entry *self)
{
  g_return_val_if_fail (WZ_IS_ICD10_ENTRY (self), NULL);

  return self->title_en;
}

const char *
wz_icd10_entry_get_title_zh (WzIcd10Entry *self)
{
  g_return_val_if_fail (WZ_IS_ICD10_ENTRY (self), NULL);

  return self->title_zh;
}

static gboolean
ui_is_chinese (void)
{
  const char * const *languages = g_get_language_names ();

  return languages[0] != NULL && g_str_has_prefix (languages[0], "zh");
}

char *
wz_icd10_entry_dup_title (WzIcd10Entry *self)
{
  const char *first, *second;

  g_return_val_if_fail (WZ_IS_ICD10_ENTRY (self), NULL);

  first = ui_is_chinese () ? self->title_zh : self->title_en;
  second = ui_is_chinese () ? self->title_en : self->title_zh;
  if (*first == '\0')
    return g_strdup (second);
  if (*second == '\0')
    return g_strdup (first);

  return g_strdup_printf ("%s · %s", first, second);
}
