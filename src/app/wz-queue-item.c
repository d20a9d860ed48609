/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-queue-item"

#include "config.h"

#include "wz-queue-item.h"

#include <string.h>
#include <glib/gi18n.h>

#include "wz-patient-item.h"
#include "wz-pinyin.h"
#include "wz-queue-filter.h"
#include "wz-time.h"

#define ACT_PRIORITY "http://terminology.hl7.org/CodeSystem/v3-ActPriority"
#define TRIAGE_SOURCE "https://wenzhen.example/fhir/StructureDefinition/triage-source"

/* One visit of today in the doctor's worklist: the Encounter (status, arrival, urgency, reason)
 * and the patient it is about, reduced to what the queue shows and searches. Updated in place
 * when a newer version arrives, so rows bound to it redraw without the list being rebuilt.
 * 100,000 of them are held at once, so the struct is kept to 128 bytes (a slice size) and to
 * two allocations of its own besides. */
struct _WzQueueItem
{
  GObject        parent_instance;

  /* Strings many visits share (statuses, reasons, “Female · 34 years”) are interned: at
   * 100,000 visits a copy each would cost more than everything else an item holds. */
  const char    *encounter_status;
  const char    *reason;
  gint64         arrived_us;
  guint          version;
  guint          row;
  int            allergy_count;
  /* The visit's id and the patient's id, name and birth date, each NUL-terminated, in one
   * block: one allocation instead of four. Birth dates are nearly unique, so they are not
   * interned. */
  guint16        patient_at;
  guint16        name_at;
  guint16        birth_date_at;
  guint8         urgency;
  guint8         status;                  /* WzQueueStatus */
  guint          urgency_from_triage : 1;
  guint          awaiting_pharmacist : 1;
  guint          key_borrowed : 1;        /* key is in the model's key store, not the item's */
  guint          has_patient_id : 1;
  guint          has_name : 1;
  guint          has_birth_date : 1;

  char          *strings;
  const char    *gender;
  const char    *details;
  WzQueueKey    *key;
  char          *allergies;
};

G_STATIC_ASSERT (sizeof (struct _WzQueueItem) <= 128);

G_DEFINE_FINAL_TYPE (WzQueueItem, wz_queue_item, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (WzQueueStatus, wz_queue_status,
  G_DEFINE_ENUM_VALUE (WZ_QUEUE_STATUS_WAITING, "waiting"),
  G_DEFINE_ENUM_VALUE (WZ_QUEUE_STATUS_IN_CONSULTATION, "in-consultation"),
  G_DEFINE_ENUM_VALUE (WZ_QUEUE_STATUS_AWAITING_PHARMACIST, "awaiting-pharmacist"),
  G_DEFINE_ENUM_VALUE (WZ_QUEUE_STATUS_FINISHED, "finished"),
  G_DEFINE_ENUM_VALUE (WZ_QUEUE_STATUS_ALL, "all"),
  G_DEFINE_ENUM_VALUE (WZ_QUEUE_STATUS_NONE, "none"))

enum {
  PROP_0,
  PROP_ENCOUNTER_ID,
  PROP_STATUS,
  PROP_URGENCY,
  PROP_REASON,
  PROP_ARRIVED,
  PROP_PATIENT_ID,
  PROP_NAME,
  PROP_DETAILS,
  PROP_ALLERGY_COUNT,
  PROP_ALLERGIES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

const char *
wz_queue_status_label (WzQueueStatus status)
{
  switch (status)
    {
    case WZ_QUEUE_STATUS_WAITING:
      /* Translators: a patient's place in the doctor's queue */
      return _("Waiting");
    case WZ_QUEUE_STATUS_IN_CONSULTATION:
      /* Translators: a patient's place in the doctor's queue */
      return _("In Consultation");
    case WZ_QUEUE_STATUS_AWAITING_PHARMACIST:
      /* Translators: a patient's place in the doctor's queue: the prescription waits for review */
      return _("Awaiting Pharmacist");
    case WZ_QUEUE_STATUS_FINISHED:
      /* Translators: a patient's place in the doctor's queue */
      return _("Finished");
    case WZ_QUEUE_STATUS_ALL:
      /* Translators: the queue filter that shows every patient of today */
      return _("All");
    case WZ_QUEUE_STATUS_NONE:
    default:
      return "";
    }
}

WzQueueStatus
wz_queue_status_from_encounter (const char *encounter_status)
{
  if (g_strcmp0 (encounter_status, "arrived") == 0 || g_strcmp0 (encounter_status, "triaged") == 0)
    return WZ_QUEUE_STATUS_WAITING;
  if (g_strcmp0 (encounter_status, "in-progress") == 0)
    return WZ_QUEUE_STATUS_IN_CONSULTATION;
  if (g_strcmp0 (encounter_status, "finished") == 0)
    return WZ_QUEUE_STATUS_FINISHED;

  return WZ_QUEUE_STATUS_NONE;
}

const char *
wz_queue_urgency_label (guint urgency)
{
  switch (urgency)
    {
    case 1:
      /* Translators: triage level 1 of 4, shown with a red badge */
      return _("Emergency: see now");
    case 2:
      /* Translators: triage level 2 of 4, orange */
      return _("Urgent");
    case 3:
      /* Translators: triage level 3 of 4, yellow */
      return _("Routine");
    case 4:
      /* Translators: triage level 4 of 4, green */
      return _("Can wait");
    default:
      return _("Not triaged");
    }
}

/* ---------------------------------------------------------------------------------------- */
/* JSON, tolerant of members that are missing or of the wrong type */

static const char *
string_member (JsonObject *object,
               const char *member)
{
  JsonNode *node;

  if (object == NULL || (node = json_object_get_member (object, member)) == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

static JsonObject *
object_member (JsonObject *object,
               const char *member)
{
  JsonNode *node;

  if (object == NULL || (node = json_object_get_member (object, member)) == NULL)
    return NULL;

  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
array_member (JsonObject *object,
              const char *member)
{
  JsonNode *node;

  if (object == NULL || (node = json_object_get_member (object, member)) == NULL)
    return NULL;

  return JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static JsonObject *
array_object (JsonArray *array,
              guint      index)
{
  JsonNode *node = json_array_get_element (array, index);

  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static gboolean
replace_interned (const char **field,
                  const char  *value)
{
  const char *interned = g_intern_string (value);

  if (*field == interned)
    return FALSE;

  *field = interned;
  return TRUE;
}

static gboolean
replace_string (char       **field,
                const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;

  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

enum {
  CHANGED_PATIENT_ID = 1 << 1,
  CHANGED_NAME = 1 << 2,
  CHANGED_BIRTH_DATE = 1 << 3,
};

static const char *
patient_string (WzQueueItem *self,
                guint        which)
{
  if (self->strings == NULL)
    return NULL;

  switch (which)
    {
    case CHANGED_PATIENT_ID:
      return self->has_patient_id ? self->strings + self->patient_at : NULL;
    case CHANGED_NAME:
      return self->has_name ? self->strings + self->name_at : NULL;
    case CHANGED_BIRTH_DATE:
      return self->has_birth_date ? self->strings + self->birth_date_at : NULL;
    default:
      return self->strings;
    }
}

/* Replaces the visit's id and the patient's id, name and birth date (the block is made anew
 * when any of them changes, so pointers to all of the old ones go: WzQueueModel re-indexes the
 * item around such changes). Returns which changed, as 1 << the argument's place (from 0). */
static guint
set_strings (WzQueueItem *self,
             const char  *encounter_id,
             const char  *patient_id,
             const char  *name,
             const char  *birth_date)
{
  const char *values[] = { encounter_id, patient_id, name, birth_date };
  gsize lengths[G_N_ELEMENTS (values)];
  guint changed = 0;
  gsize at = 0;
  char *block;

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      if (g_strcmp0 (patient_string (self, 1u << i), values[i]) != 0)
        changed |= 1u << i;
      lengths[i] = values[i] != NULL ? strlen (values[i]) : 0;
    }
  if (changed == 0)
    return 0;

  /* Offsets are 16 bits. FHIR ids have at most 64 characters and dates 10; a name of tens of
   * kilobytes is not one, and is kept cut at a character. */
  lengths[0] = MIN (lengths[0], 1024);
  lengths[1] = MIN (lengths[1], 1024);
  if (lengths[2] > 32768)
    lengths[2] = g_utf8_find_prev_char (values[2], values[2] + 32768) - values[2];
  lengths[3] = MIN (lengths[3], 1024);

  block = g_malloc (lengths[0] + lengths[1] + lengths[2] + lengths[3] + 4);
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      if (lengths[i] > 0)
        memcpy (block + at, values[i], lengths[i]);
      block[at + lengths[i]] = '\0';
      at += lengths[i] + 1;
    }
  self->patient_at = (guint16) (lengths[0] + 1);
  self->name_at = (guint16) (self->patient_at + lengths[1] + 1);
  self->birth_date_at = (guint16) (self->name_at + lengths[2] + 1);

  g_free (self->strings);
  self->strings = block;
  self->has_patient_id = values[1] != NULL;
  self->has_name = values[2] != NULL;
  self->has_birth_date = values[3] != NULL;

  return changed;
}

/* ---------------------------------------------------------------------------------------- */
/* GObject */

static void
wz_queue_item_finalize (GObject *object)
{
  WzQueueItem *self = WZ_QUEUE_ITEM (object);

  g_free (self->strings);
  g_free (self->allergies);
  if (!self->key_borrowed)
    g_clear_pointer (&self->key, wz_queue_key_free);

  G_OBJECT_CLASS (wz_queue_item_parent_class)->finalize (object);
}

static void
wz_queue_item_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  WzQueueItem *self = WZ_QUEUE_ITEM (object);

  switch (prop_id)
    {
    case PROP_ENCOUNTER_ID:
      g_value_set_string (value, self->strings);
      break;
    case PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;
    case PROP_URGENCY:
      g_value_set_uint (value, self->urgency);
      break;
    case PROP_REASON:
      g_value_set_string (value, self->reason);
      break;
    case PROP_ARRIVED:
      g_value_set_int64 (value, self->arrived_us);
      break;
    case PROP_PATIENT_ID:
      g_value_set_string (value, wz_queue_item_get_patient_id (self));
      break;
    case PROP_NAME:
      g_value_set_string (value, wz_queue_item_get_name (self));
      break;
    case PROP_DETAILS:
      g_value_set_string (value, wz_queue_item_get_details (self));
      break;
    case PROP_ALLERGY_COUNT:
      g_value_set_int (value, self->allergy_count);
      break;
    case PROP_ALLERGIES:
      g_value_set_string (value, self->allergies);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_queue_item_class_init (WzQueueItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = wz_queue_item_finalize;
  object_class->get_property = wz_queue_item_get_property;

  properties[PROP_ENCOUNTER_ID] = g_param_spec_string ("encounter-id", NULL, NULL, NULL, flags);
  properties[PROP_STATUS] = g_param_spec_enum ("status", NULL, NULL, WZ_TYPE_QUEUE_STATUS,
                                               WZ_QUEUE_STATUS_NONE, flags);
  properties[PROP_URGENCY] = g_param_spec_uint ("urgency", NULL, NULL, 0, 4, 0, flags);
  properties[PROP_REASON] = g_param_spec_string ("reason", NULL, NULL, NULL, flags);
  properties[PROP_ARRIVED] = g_param_spec_int64 ("arrived", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_PATIENT_ID] = g_param_spec_string ("patient-id", NULL, NULL, NULL, flags);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties[PROP_DETAILS] = g_param_spec_string ("details", NULL, NULL, NULL, flags);
  properties[PROP_ALLERGY_COUNT] = g_param_spec_int ("allergy-count", NULL, NULL, -1, G_MAXINT, -1,
                                                     flags);
  properties[PROP_ALLERGIES] = g_param_spec_string ("allergies", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
wz_queue_item_init (WzQueueItem *self)
{
  self->status = WZ_QUEUE_STATUS_NONE;
  self->allergy_count = -1;
  self->row = G_MAXUINT;
}

WzQueueItem *
wz_queue_item_new (const char *encounter_id)
{
  WzQueueItem *self;

  g_return_val_if_fail (encounter_id != NULL, NULL);

  self = g_object_new (WZ_TYPE_QUEUE_ITEM, NULL);
  set_strings (self, encounter_id, NULL, NULL, NULL);

  return self;
}

/* ---------------------------------------------------------------------------------------- */
/* Encounter */

static guint
urgency_from_priority (JsonObject *priority)
{
  static const char *const codes[] = { NULL, "EM", "UR", "R", "EL" };
  JsonArray *codings = array_member (priority, "coding");

  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonObject *coding = array_object (codings, i);
      const char *code;

      if (g_strcmp0 (string_member (coding, "system"), ACT_PRIORITY) != 0)
        continue;
      code = string_member (coding, "code");
      for (guint level = 1; level < G_N_ELEMENTS (codes); level++)
        if (g_strcmp0 (code, codes[level]) == 0)
          return level;
      /* Other ActPriority codes: “ASAP”, “stat” read as urgent, “preop” and the like as routine. */
      if (g_strcmp0 (code, "S") == 0 || g_strcmp0 (code, "A") == 0 || g_strcmp0 (code, "CS") == 0)
        return 1;
      return 3;
    }

  return 0;
}

static gboolean
has_triage_source (JsonObject *priority)
{
  JsonArray *extensions = array_member (priority, "extension");

  for (guint i = 0; extensions != NULL && i < json_array_get_length (extensions); i++)
    if (g_strcmp0 (string_member (array_object (extensions, i), "url"), TRIAGE_SOURCE) == 0)
      return TRUE;

  return FALSE;
}

static char *
reason_text (JsonObject *encounter)
{
  JsonArray *reasons = array_member (encounter, "reasonCode");
  JsonObject *first;
  const char *text;

  if (reasons == NULL || json_array_get_length (reasons) == 0)
    return NULL;

  first = array_object (reasons, 0);
  text = string_member (first, "text");
  if (text == NULL)
    {
      JsonArray *codings = array_member (first, "coding");

      if (codings != NULL && json_array_get_length (codings) > 0)
        text = string_member (array_object (codings, 0), "display");
    }

  return g_strdup (text);
}

static char *
subject_id (JsonObject *encounter)
{
  const char *reference = string_member (object_member (encounter, "subject"), "reference");

  if (reference == NULL || !g_str_has_prefix (reference, "Patient/") || reference[8] == '\0')
    return NULL;

  return g_strdup (reference + 8);
}

/**
 * wz_queue_item_apply_encounter:
 * @encounter: the FHIR Encounter this item shows
 *
 * Takes over a version of the Encounter, unless the item already has a newer one (answers to
 * requests made one after the other can arrive out of order). Notifies what changed.
 *
 * Returns: %TRUE when anything the queue shows or sorts by changed
 */
gboolean
wz_queue_item_apply_encounter (WzQueueItem *self,
                               JsonObject  *encounter)
{
  JsonObject *meta = object_member (encounter, "meta");
  JsonObject *priority = object_member (encounter, "priority");
  const char *version_text = string_member (meta, "versionId");
  const char *start = string_member (object_member (encounter, "period"), "start");
  g_autofree char *reason = NULL;
  g_autofree char *patient = NULL;
  guint64 version = 0;
  gint64 arrived = 0;
  WzQueueStatus status;
  guint urgency;
  gboolean changed = FALSE;

  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), FALSE);
  g_return_val_if_fail (encounter != NULL, FALSE);

  if (version_text != NULL)
    g_ascii_string_to_unsigned (version_text, 10, 0, G_MAXUINT, &version, NULL);
  if (version != 0 && version < self->version)
    return FALSE;

  if (start == NULL || !wz_time_parse_instant (start, &arrived, NULL))
    arrived = 0;
  reason = reason_text (encounter);
  patient = subject_id (encounter);
  urgency = urgency_from_priority (priority);
  status = wz_queue_status_from_encounter (string_member (encounter, "status"));
  if (status == WZ_QUEUE_STATUS_FINISHED && self->awaiting_pharmacist)
    status = WZ_QUEUE_STATUS_AWAITING_PHARMACIST;

  g_object_freeze_notify (G_OBJECT (self));

  self->version = (guint) version;
  replace_interned (&self->encounter_status, string_member (encounter, "status"));
  self->urgency_from_triage = has_triage_source (priority);

  if (self->status != status)
    {
      self->status = status;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
      changed = TRUE;
    }
  if (self->urgency != urgency)
    {
      self->urgency = urgency;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URGENCY]);
      changed = TRUE;
    }
  if (self->arrived_us != arrived)
    {
      self->arrived_us = arrived;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ARRIVED]);
      changed = TRUE;
    }
  if (replace_interned (&self->reason, reason))
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REASON]);
      changed = TRUE;
    }
  if (set_strings (self, self->strings, patient, patient_string (self, CHANGED_NAME),
                   patient_string (self, CHANGED_BIRTH_DATE)) != 0)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PATIENT_ID]);
      changed = TRUE;
    }

  g_object_thaw_notify (G_OBJECT (self));

  return changed;
}

/* ---------------------------------------------------------------------------------------- */
/* Patient */

static void
add_strings (GPtrArray  *out,
             JsonArray  *array,
             const char *system_member,
             const char *system_value)
{
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonObject *entry = array_object (array, i);
      const char *value = string_member (entry, "value");

      /* Record-keeping ids (urn:uuid:…) are nothing a doctor would type. */
      if (value == NULL || g_str_has_prefix (value, "urn:"))
        continue;
      if (system_member != NULL && g_strcmp0 (string_member (entry, system_member), system_value) != 0)
        continue;
      g_ptr_array_add (out, (gpointer) value);
    }
}

/* Latin names carry initials too (Anna Müller → am), so the same habit works for everyone. */
static void
word_initials (const char *text,
               GString    *initials)
{
  gboolean at_word_start = TRUE;

  for (const char *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isalpha (c))
        {
          if (at_word_start)
            {
              g_autofree char *folded = NULL;
              char utf8[7] = { 0 };

              g_unichar_to_utf8 (c, utf8);
              folded = g_utf8_casefold (utf8, -1);
              g_string_append (initials, folded);
            }
          at_word_start = FALSE;
        }
      else
        at_word_start = TRUE;
    }
}

static WzQueueKey *
build_key (const char        *name,
           const char *const *identifiers,
           const char *const *phones)
{
  g_autoptr(GString) initials = g_string_new (NULL);
  g_autoptr(GString) full = g_string_new (NULL);

  if (wz_pinyin_has_han (name))
    {
      g_auto(GStrv) syllables = wz_pinyin_syllables (name);

      for (guint i = 0; syllables != NULL && syllables[i] != NULL; i++)
        {
          if (syllables[i][0] == '\0')
            continue;
          g_string_append_c (initials, syllables[i][0]);
          g_string_append (full, syllables[i]);
        }
    }
  else
    word_initials (name, initials);

  return wz_queue_key_new (name, initials->str, full->str, identifiers, phones);
}

static char *
format_details (const char *gender,
                const char *birth_date,
                GDate      *today)
{
  g_autofree char *age = wz_patient_format_age (birth_date, today);
  const char *gender_label = wz_patient_gender_label (gender);

  if (gender_label != NULL && age != NULL)
    /* Translators: a patient’s gender and age in the queue, e.g. “Female · 34 years” */
    return g_strdup_printf (_("%s · %s"), gender_label, age);
  if (gender_label != NULL)
    return g_strdup (gender_label);
  if (age != NULL)
    return g_steal_pointer (&age);

  return g_strdup ("");
}

struct _WzQueuePatient
{
  char       *name;
  char       *gender;
  char       *birth_date;
  char       *details;
  WzQueueKey *key;
};

/**
 * wz_queue_patient_new:
 * @patient: a FHIR Patient
 * @today: the date ages are computed on
 *
 * What the queue shows and searches of a patient: name, gender, age, and the search key from
 * the name, its pinyin, identifiers and phone numbers. Pinyin is the slow part (ICU), so a page
 * of patients is prepared on a worker thread; this function is safe to call from one.
 *
 * Returns: (transfer full): the prepared patient
 */
WzQueuePatient *
wz_queue_patient_new (JsonObject *patient,
                      GDate      *today)
{
  g_autoptr(GPtrArray) identifiers = g_ptr_array_new ();
  g_autoptr(GPtrArray) phones = g_ptr_array_new ();
  WzQueuePatient *prepared;

  g_return_val_if_fail (patient != NULL, NULL);
  g_return_val_if_fail (today != NULL, NULL);

  prepared = g_new0 (WzQueuePatient, 1);
  prepared->name = wz_patient_name_from_resource (patient);
  prepared->gender = g_strdup (string_member (patient, "gender"));
  prepared->birth_date = g_strdup (string_member (patient, "birthDate"));
  prepared->details = format_details (prepared->gender, prepared->birth_date, today);

  add_strings (identifiers, array_member (patient, "identifier"), NULL, NULL);
  g_ptr_array_add (identifiers, NULL);
  add_strings (phones, array_member (patient, "telecom"), "system", "phone");
  g_ptr_array_add (phones, NULL);
  prepared->key = build_key (prepared->name != NULL ? prepared->name : "",
                             (const char *const *) identifiers->pdata,
                             (const char *const *) phones->pdata);

  return prepared;
}

void
wz_queue_patient_free (WzQueuePatient *patient)
{
  if (patient == NULL)
    return;

  g_free (patient->name);
  g_free (patient->gender);
  g_free (patient->birth_date);
  g_free (patient->details);
  wz_queue_key_free (patient->key);
  g_free (patient);
}

/**
 * wz_queue_item_set_patient:
 * @patient: the visit's patient, prepared
 *
 * Returns: %TRUE when anything shown changed
 */
gboolean
wz_queue_item_set_patient (WzQueueItem          *self,
                           const WzQueuePatient *patient)
{
  gboolean changed = FALSE;

  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), FALSE);
  g_return_val_if_fail (patient != NULL, FALSE);

  g_object_freeze_notify (G_OBJECT (self));

  replace_interned (&self->gender, patient->gender);
  if (set_strings (self, self->strings, patient_string (self, CHANGED_PATIENT_ID), patient->name,
                   patient->birth_date) & CHANGED_NAME)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
      changed = TRUE;
    }
  if (replace_interned (&self->details, patient->details))
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DETAILS]);
      changed = TRUE;
    }

  /* A new identifier or phone number changes what finds the patient, not what the row shows;
   * the model has to hear of it all the same, so that searches see it. */
  if (!wz_queue_key_equal (self->key, patient->key))
    {
      if (!self->key_borrowed)
        wz_queue_key_free (self->key);
      self->key = wz_queue_key_copy (patient->key);
      self->key_borrowed = FALSE;
      changed = TRUE;
    }

  g_object_thaw_notify (G_OBJECT (self));

  return changed;
}

/**
 * wz_queue_item_apply_patient:
 * @patient: the FHIR Patient the visit is about
 * @today: the date ages are computed on
 *
 * Returns: %TRUE when anything shown changed
 */
gboolean
wz_queue_item_apply_patient (WzQueueItem *self,
                             JsonObject  *patient,
                             GDate       *today)
{
  g_autoptr(WzQueuePatient) prepared = NULL;

  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), FALSE);

  prepared = wz_queue_patient_new (patient, today);

  return wz_queue_item_set_patient (self, prepared);
}

/**
 * wz_queue_item_set_allergies:
 * @count: how many active allergies the patient has; -1 while unknown
 * @summary: (nullable): their names, for the tooltip
 */
void
wz_queue_item_set_allergies (WzQueueItem *self,
                             int          count,
                             const char  *summary)
{
  g_return_if_fail (WZ_IS_QUEUE_ITEM (self));

  g_object_freeze_notify (G_OBJECT (self));
  if (replace_string (&self->allergies, summary))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLERGIES]);
  if (self->allergy_count != count)
    {
      self->allergy_count = count;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ALLERGY_COUNT]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * wz_queue_item_set_awaiting_pharmacist:
 * @awaiting: whether an approval Task for the visit's prescription is open
 *
 * Returns: %TRUE when the item's status changed
 */
gboolean
wz_queue_item_set_awaiting_pharmacist (WzQueueItem *self,
                                       gboolean     awaiting)
{
  WzQueueStatus status;

  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), FALSE);

  self->awaiting_pharmacist = awaiting;

  status = wz_queue_status_from_encounter (self->encounter_status);
  if (status == WZ_QUEUE_STATUS_FINISHED && awaiting)
    status = WZ_QUEUE_STATUS_AWAITING_PHARMACIST;
  if (status == self->status)
    return FALSE;

  self->status = status;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* Getters */

const char *
wz_queue_item_get_encounter_id (WzQueueItem *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), NULL);
  return self->strings;
}

guint
wz_queue_item_get_version (WzQueueItem *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), 0);
  return self->version;
}

const char *
wz_queue_item_get_encounter_status (WzQueueItem *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), NULL);
  return self->encounter_status;
}

WzQueueStatus
wz_queue_item_get_status (WzQueueItem *self)
{
  /* Called per row per keystroke: no type check. */
  return self->status;
}

gint64
wz_queue_item_get_arrived (WzQueueItem *self)
{
  return self->arrived_us;
}

guint
wz_queue_item_get_urgency (WzQueueItem *self)
{
  return self->urgency;
}

gboolean
wz_queue_item_get_urgency_from_triage (WzQueueItem *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), FALSE);
  return self->urgency_from_triage;
}

const char *
wz_queue_item_get_reason (WzQueueItem *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), NULL);
  return self->reason;
}

const char *
wz_queue_item_get_patient_id (WzQueueItem *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), NULL);
  return patient_string (self, CHANGED_PATIENT_ID);
}

gboolean
wz_queue_item_has_patient (WzQueueItem *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), FALSE);
  return self->key != NULL;
}

const char *
wz_queue_item_get_name (WzQueueItem *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), NULL);
  return self->has_name ? self->strings + self->name_at : _("Unnamed patient");
}

const char *
wz_queue_item_get_details (WzQueueItem *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), NULL);
  return self->details != NULL ? self->details : "";
}

const char *
wz_queue_item_get_gender (WzQueueItem *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), NULL);
  return self->gender;
}

const char *
wz_queue_item_get_birth_date (WzQueueItem *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), NULL);
  return patient_string (self, CHANGED_BIRTH_DATE);
}

int
wz_queue_item_get_allergy_count (WzQueueItem *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), -1);
  return self->allergy_count;
}

const char *
wz_queue_item_get_allergies (WzQueueItem *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), NULL);
  return self->allergies;
}

gboolean
wz_queue_item_get_awaiting_pharmacist (WzQueueItem *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), FALSE);
  return self->awaiting_pharmacist;
}

const WzQueueKey *
wz_queue_item_get_key (WzQueueItem *self)
{
  /* Called per row per keystroke: no type check. */
  return self->key;
}


guint
wz_queue_item_get_row (WzQueueItem *self)
{
  return self->row;
}

void
wz_queue_item_set_row (WzQueueItem *self,
                       guint        row)
{
  self->row = row;
}

/* The model keeps the key in its store; the item gives up its own copy. */
void
wz_queue_item_borrow_key (WzQueueItem      *self,
                          const WzQueueKey *key)
{
  g_return_if_fail (WZ_IS_QUEUE_ITEM (self));

  if (!self->key_borrowed)
    wz_queue_key_free (self->key);
  self->key = (WzQueueKey *) key;
  self->key_borrowed = key != NULL;
}

/* Leaving the model: the item takes a copy of its own. */
void
wz_queue_item_own_key (WzQueueItem *self)
{
  g_return_if_fail (WZ_IS_QUEUE_ITEM (self));

  if (!self->key_borrowed)
    return;

  self->key = wz_queue_key_copy (self->key);
  self->key_borrowed = FALSE;
}

gboolean
wz_queue_item_key_is_borrowed (WzQueueItem *self)
{
  return self->key_borrowed;
}

/**
 * wz_queue_item_format_waiting:
 * @now_us: the current time
 *
 * How long the patient has been waiting since joining the queue, as a doctor reads it at a
 * glance: “Just now”, “12 min”, “1 h 5 min”.
 *
 * Returns: (transfer full): the label
 */
char *
wz_queue_item_format_waiting (WzQueueItem *self,
                              gint64       now_us)
{
  gint64 minutes;

  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (self), NULL);

  if (self->arrived_us == 0)
    return g_strdup ("");

  minutes = MAX (0, (now_us - self->arrived_us) / G_USEC_PER_SEC / 60);
  if (minutes < 1)
    /* Translators: waiting time of a patient who joined the queue less than a minute ago */
    return g_strdup (_("Just now"));
  if (minutes < 60)
    /* Translators: waiting time in minutes, keep it short */
    return g_strdup_printf (_("%d min"), (int) minutes);

  /* Translators: waiting time in hours and minutes, keep it short */
  return g_strdup_printf (_("%d h %d min"), (int) (minutes / 60), (int) (minutes % 60));
}

/**
 * wz_queue_item_new_for_values:
 *
 * An item as the server would give it, without JSON: for benchmarks and tests that build large
 * worklists.
 *
 * Returns: (transfer full): the item
 */
WzQueueItem *
wz_queue_item_new_for_values (const char    *encounter_id,
                              const char    *name,
                              const char    *identifier,
                              const char    *phone,
                              WzQueueStatus  status,
                              guint          urgency,
                              gint64         arrived_us)
{
  WzQueueItem *self = wz_queue_item_new (encounter_id);
  const char *identifiers[] = { identifier, NULL };
  const char *phones[] = { phone, NULL };

  set_strings (self, encounter_id, NULL, name, NULL);
  self->status = status;
  self->encounter_status = g_intern_static_string (status == WZ_QUEUE_STATUS_WAITING ? "arrived"
                                                   : status == WZ_QUEUE_STATUS_IN_CONSULTATION ? "in-progress"
                                                   : "finished");
  self->awaiting_pharmacist = status == WZ_QUEUE_STATUS_AWAITING_PHARMACIST;
  self->urgency = urgency;
  self->arrived_us = arrived_us;
  self->key = build_key (name, identifier != NULL ? identifiers : NULL,
                         phone != NULL ? phones : NULL);

  return self;
}

/**
 * wz_queue_item_compare_arrival:
 *
 * Who came first; ties keep a stable order by visit id. A #GCompareDataFunc for sorters.
 */
int
wz_queue_item_compare_arrival (gconstpointer a,
                               gconstpointer b,
                               gpointer      user_data)
{
  const WzQueueItem *item_a = a;
  const WzQueueItem *item_b = b;

  if (item_a->arrived_us != item_b->arrived_us)
    return item_a->arrived_us < item_b->arrived_us ? -1 : 1;

  return g_strcmp0 (item_a->strings, item_b->strings);
}

/* Not yet triaged counts as routine: neither ahead of the urgent nor behind those who can wait. */
static guint
urgency_rank (const WzQueueItem *item)
{
  return item->urgency == 0 ? 3 : item->urgency;
}

/**
 * wz_queue_item_compare_urgency:
 *
 * Most urgent first, then who came first. A #GCompareDataFunc for sorters.
 */
int
wz_queue_item_compare_urgency (gconstpointer a,
                               gconstpointer b,
                               gpointer      user_data)
{
  guint rank_a = urgency_rank (a);
  guint rank_b = urgency_rank (b);

  if (rank_a != rank_b)
    return rank_a < rank_b ? -1 : 1;

  return wz_queue_item_compare_arrival (a, b, user_data);
}
