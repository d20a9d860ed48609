/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-followup-worklist"
/* memmem(): thousands of stored Tasks are searched for a few members per worklist. */
#define _GNU_SOURCE

#include "config.h"

#include "wz-followup-worklist.h"

#include <string.h>

#include "wz-json.h"
#include "wz-search-query.h"

/* A page of the store large enough that one query returns everything: a full first page would
 * make the store count the matches again. */
#define ALL_ROWS 1000000
/* Readings older than this do not make the latest value of a measurement on the worklist. */
#define READINGS_DAYS 400

GPtrArray *
wz_followup_search_stored (WzStore     *store,
                           const char  *type,
                           const char  *query_text,
                           GError     **error)
{
  g_autoptr(WzSearchQuery) query = wz_search_query_parse (type, query_text, error);
  g_autoptr(WzStoreResult) result = NULL;
  gint64 started = g_get_monotonic_time ();

  if (query == NULL)
    return NULL;
  query->count = ALL_ROWS;
  if ((result = wz_store_search (store, query, error)) == NULL)
    return NULL;
  g_debug ("%s?%.80s: %u in %.1f ms", type, query_text, result->resources->len,
           (g_get_monotonic_time () - started) / 1000.0);
  return g_ptr_array_ref (result->resources);
}

static JsonObject *
array_object (JsonArray *array,
              guint      i)
{
  JsonNode *node;

  if (array == NULL || i >= json_array_get_length (array))
    return NULL;
  node = json_array_get_element (array, i);
  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* ---- Reading a Task's few fields without parsing it ---------------------------------------- */

/* Stored resources are the compact JSON the server wrote. The candidates of a worklist are
 * thousands of Tasks of which a few fields decide; they are looked up in the text, and a Task
 * whose text does not have the expected shape is parsed instead. */
typedef struct
{
  char  kind[40];
  char  owner[128];
  WzDay due;
  WzDay window_end;
} TaskFacts;

/* The string value following KEY (which ends with the opening quote) within [FROM, END), copied
 * into OUT; FALSE when absent, escaped or too long. */
static gboolean
string_after (const char *from,
              const char *end,
              const char *key,
              char       *out,
              gsize       out_size)
{
  const char *found = memmem (from, end - from, key, strlen (key));
  const char *value, *close;

  if (found == NULL)
    return FALSE;
  value = found + strlen (key);
  if ((close = memchr (value, '"', end - value)) == NULL || (gsize) (close - value) >= out_size ||
      memchr (value, '\\', close - value) != NULL)
    return FALSE;
  memcpy (out, value, close - value);
  out[close - value] = '\0';
  return TRUE;
}

/* [object start, its first closing brace) of the member KEY ("\"owner\":{"). */
static gboolean
object_span (const char  *data,
             const char  *end,
             const char  *key,
             const char **out_start,
             const char **out_end)
{
  const char *found = memmem (data, end - data, key, strlen (key));
  const char *close;

  if (found == NULL)
    return FALSE;
  found += strlen (key);
  if ((close = memchr (found, '}', end - found)) == NULL)
    return FALSE;
  *out_start = found;
  *out_end = close;
  return TRUE;
}

static gboolean
facts_by_parsing (const char *data,
                  gsize       length,
                  TaskFacts  *facts)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  JsonObject *task, *owner, *period;
  JsonArray *codings, *extensions;
  const char *text;

  if (!json_parser_load_from_data (parser, data, length, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return FALSE;
  task = json_node_get_object (json_parser_get_root (parser));
  codings = wz_json_get_array (wz_json_get_object (task, "code"), "coding");
  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    {
      JsonObject *coding = array_object (codings, i);

      if (g_strcmp0 (wz_json_get_string (coding, "system"), WZ_FOLLOWUP_TASK_SYSTEM) == 0 &&
          (text = wz_json_get_string (coding, "code")) != NULL)
        g_strlcpy (facts->kind, text, sizeof facts->kind);
    }
  owner = wz_json_get_object (task, "owner");
  if ((text = wz_json_get_string (owner, "reference")) != NULL)
    g_strlcpy (facts->owner, text, sizeof facts->owner);
  extensions = wz_json_get_array (task, "extension");
  for (guint i = 0; extensions != NULL && i < json_array_get_length (extensions); i++)
    {
      JsonObject *extension = array_object (extensions, i);

      if (g_strcmp0 (wz_json_get_string (extension, "url"), WZ_FOLLOWUP_DUE_EXTENSION) == 0)
        wz_day_parse (wz_json_get_string (extension, "valueDate"), &facts->due);
    }
  period = wz_json_get_object (wz_json_get_object (task, "restriction"), "period");
  if (period != NULL)
    {
      wz_day_parse_in_zone (wz_json_get_string (period, "end"), utc, &facts->window_end);
      if (facts->due == WZ_DAY_NONE)
        wz_day_parse_in_zone (wz_json_get_string (period, "start"), utc, &facts->due);
    }
  if (facts->due == WZ_DAY_NONE)
    facts->due = facts->window_end;
  return facts->kind[0] != '\0';
}

/* FALSE when STORED is not a follow-up Task. */
static gboolean
task_facts (WzStoredResource *stored,
            TaskFacts        *facts)
{
  gsize length;
  const char *data = g_bytes_get_data (stored->json, &length);
  const char *end = data + length;
  const char *start, *stop;
  char date[40];

  memset (facts, 0, sizeof *facts);
  if (memmem (data, length, WZ_FOLLOWUP_TASK_SYSTEM "\"", strlen (WZ_FOLLOWUP_TASK_SYSTEM) + 1) == NULL)
    return FALSE;

  if (!string_after (data, end, WZ_FOLLOWUP_TASK_SYSTEM "\",\"code\":\"", facts->kind,
                     sizeof facts->kind) ||
      !object_span (data, end, "\"owner\":{", &start, &stop) ||
      !string_after (start, stop, "\"reference\":\"", facts->owner, sizeof facts->owner) ||
      !string_after (data, end, WZ_FOLLOWUP_DUE_EXTENSION "\",\"valueDate\":\"", date,
                     sizeof date) ||
      !wz_day_parse (date, &facts->due))
    return facts_by_parsing (data, length, facts);

  /* The window's last day; a dateTime is read on its UTC date, as the view does. */
  if (object_span (data, end, "\"restriction\":{\"period\":{", &start, &stop) &&
      string_after (start, stop, "\"end\":\"", date, sizeof date))
    {
      g_autoptr(GTimeZone) utc = NULL;

      if (strlen (date) == 10)
        wz_day_parse (date, &facts->window_end);
      else
        {
          utc = g_time_zone_new_utc ();
          wz_day_parse_in_zone (date, utc, &facts->window_end);
        }
    }
  else if (memmem (data, length, "\"restriction\"", strlen ("\"restriction\"")) != NULL)
    return facts_by_parsing (data, length, facts);
  return TRUE;
}

/* ---- The list ------------------------------------------------------------------------------ */

typedef struct
{
  const char *patient;         /* borrowed from a stored resource */
  gint        worst;           /* 2 urgent, 1 flagged, 0 none */
  gint        overdue_days;
  GPtrArray  *tasks;           /* WzStoredResource, borrowed */
} Row;

static void
row_free (gpointer data)
{
  Row *row = data;

  g_ptr_array_unref (row->tasks);
  g_free (row);
}

static Row *
row_for (GHashTable *rows,
         const char *patient)
{
  Row *row = g_hash_table_lookup (rows, patient);

  if (row == NULL)
    {
      row = g_new0 (Row, 1);
      row->patient = patient;
      row->tasks = g_ptr_array_new ();
      g_hash_table_insert (rows, (gpointer) patient, row);
    }
  return row;
}

static gint
compare_rows (gconstpointer a,
              gconstpointer b)
{
  const Row *x = *(const Row * const *) a;
  const Row *y = *(const Row * const *) b;

  if (x->worst != y->worst)
    return y->worst - x->worst;
  if (x->overdue_days != y->overdue_days)
    return y->overdue_days - x->overdue_days;
  return strcmp (x->patient, y->patient);
}

/* Takes in the waiting follow-up Tasks of CANDIDATES that belong on PRACTITIONER's list: their
 * own work from its due date; what the patient owns (a check-in, a reaction check) once it was
 * missed. Measurements run for the whole plan (their readings are shown instead) and education
 * is for the patient to read. */
static void
add_tasks (GHashTable *rows,
           GPtrArray  *candidates,
           const char *practitioner,
           WzDay       today,
           guint      *n_due,
           guint      *n_overdue)
{
  for (guint i = 0; i < candidates->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (candidates, i);
      WzFollowupTiming timing;
      TaskFacts facts;
      gboolean owned;
      Row *row;

      if (stored->patient == NULL || !task_facts (stored, &facts) || facts.due == WZ_DAY_NONE ||
          strcmp (facts.kind, "measurement") == 0 || strcmp (facts.kind, "education") == 0)
        continue;
      owned = strcmp (facts.owner, practitioner) == 0;
      if (!owned && strcmp (facts.kind, "adherence-checkin") != 0 &&
          strcmp (facts.kind, "vaccine-reaction-check") != 0)
        continue;
      timing = wz_followup_timing (facts.due, facts.window_end, today);
      if (timing == WZ_FOLLOWUP_UPCOMING || (!owned && timing != WZ_FOLLOWUP_OVERDUE))
        continue;
      row = row_for (rows, stored->patient);
      g_ptr_array_add (row->tasks, stored);
      if (timing == WZ_FOLLOWUP_OVERDUE)
        {
          gint late = (gint) today - (gint) MAX (facts.window_end, facts.due);

          row->overdue_days = MAX (row->overdue_days, late);
          (*n_overdue)++;
        }
      else
        (*n_due)++;
    }
}

static char *
escaped_list (GPtrArray *refs,
              guint      from,
              guint      to)
{
  g_autoptr(GString) list = g_string_new (NULL);

  for (guint i = from; i < to; i++)
    {
      g_autofree char *escaped = g_uri_escape_string (g_ptr_array_index (refs, i), "/", FALSE);

      if (list->len > 0)
        g_string_append_c (list, ',');
      g_string_append (list, escaped);
    }
  return g_string_free (g_steal_pointer (&list), FALSE);
}

static void
feed (WzFollowup *view,
      GPtrArray  *resources)
{
  for (guint i = 0; i < resources->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (resources, i);
      gsize length;
      const char *data = g_bytes_get_data (stored->json, &length);

      wz_followup_ingest (view, stored->type, stored->id, stored->version_id, stored->status,
                          data, length);
    }
}

/* The patients of PAGE (Row) written in full, in order, by a view fed with their data only: a
 * JSON array. */
static GBytes *
page_patients (WzStore     *store,
               GPtrArray   *page,
               const char  *practitioner,
               WzDay        today,
               const char  *lang,
               GError     **error)
{
  g_autoptr(WzFollowup) view = wz_followup_new ();
  g_autoptr(GPtrArray) refs = g_ptr_array_new ();
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) alerts = g_ptr_array_new ();
  g_autoptr(GArray) overdue = g_array_new (FALSE, FALSE, sizeof (gint));
  g_autoptr(GPtrArray) measurements = NULL;
  g_autoptr(GPtrArray) readings = NULL;
  g_autoptr(GPtrArray) patients = NULL;
  g_autofree char *patient_list = NULL;
  g_autofree char *id_list = NULL;
  g_autofree char *text = NULL;
  char since[16];

  if (page->len == 0)
    return g_bytes_new_static ("[]", 2);
  for (guint i = 0; i < page->len; i++)
    {
      Row *row = g_ptr_array_index (page, i);

      g_ptr_array_add (refs, (gpointer) row->patient);
      g_ptr_array_add (ids, g_strdup (row->patient + strlen ("Patient/")));
      g_ptr_array_add (alerts, (gpointer) (row->worst == 2 ? "urgent"
                                           : row->worst == 1 ? "flagged" : "none"));
      g_array_append_val (overdue, row->overdue_days);
    }
  patient_list = escaped_list (refs, 0, refs->len);
  id_list = escaped_list (ids, 0, ids->len);
  g_ptr_array_add (refs, NULL);

  text = g_strdup_printf ("patient=%s&status=" WZ_FOLLOWUP_ACTIONABLE ",in-progress&code="
                          "%s%%7Cmeasurement", patient_list, WZ_FOLLOWUP_TASK_SYSTEM);
  if ((measurements = wz_followup_search_stored (store, "Task", text, error)) == NULL)
    return NULL;
  g_free (text);
  text = g_strdup_printf ("patient=%s&date=ge%s", patient_list,
                          wz_day_format_buf (wz_day_add_days (today, -READINGS_DAYS), since));
  if ((readings = wz_followup_search_stored (store, "Observation", text, error)) == NULL)
    return NULL;
  g_free (text);
  text = g_strconcat ("_id=", id_list, NULL);
  if ((patients = wz_followup_search_stored (store, "Patient", text, error)) == NULL)
    return NULL;

  for (guint i = 0; i < page->len; i++)
    feed (view, ((Row *) g_ptr_array_index (page, i))->tasks);
  feed (view, measurements);
  feed (view, readings);
  /* Names are kept for patients the view knows. */
  g_ptr_array_unref (wz_followup_missing_patients (view, practitioner));
  feed (view, patients);

  return wz_followup_worklist_rows (view, practitioner, today, lang,
                                    (const char * const *) refs->pdata,
                                    (const char * const *) alerts->pdata,
                                    (const gint *) overdue->data);
}

GBytes *
wz_followup_worklist_build (WzStore     *store,
                            const char  *practitioner,
                            WzDay        today,
                            const char  *time_zone_name,
                            const char  *lang,
                            guint        count,
                            guint        offset,
                            GError     **error)
{
  g_autoptr(GHashTable) rows = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, row_free);
  g_autoptr(GPtrArray) owned = NULL;
  g_autoptr(GPtrArray) urgent = NULL;
  g_autoptr(GPtrArray) flagged = NULL;
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  g_autoptr(GPtrArray) page = g_ptr_array_new ();
  g_autoptr(GBytes) rows_text = NULL;
  g_autoptr(GBytes) envelope = NULL;
  g_autofree char *escaped = g_uri_escape_string (practitioner, "/", FALSE);
  g_autofree char *text = NULL;
  WzJsonWriter writer;
  GString *out;
  GHashTableIter iter;
  gpointer value;
  guint n_due = 0, n_overdue = 0, n_flagged = 0, n_urgent = 0;
  char day[16];

  wz_day_format_buf (today, day);

  /* Every waiting Task of theirs due by today, in one pass of the (type, status, date) index:
   * what they own (revisits, reviews, reaction checks) and what their patients own and may have
   * let pass (check-ins). */
  text = g_strdup_printf ("practitioner=%s&status=" WZ_FOLLOWUP_ACTIONABLE "&due-date=le%s"
                          "&_sort=status,due-date", escaped, day);
  if ((owned = wz_followup_search_stored (store, "Task", text, error)) == NULL)
    return NULL;
  g_free (text);
  text = g_strdup_printf ("practitioner=%s&status=active&code=%s%%7Curgent", escaped,
                          WZ_FOLLOWUP_ALERT_SYSTEM);
  if ((urgent = wz_followup_search_stored (store, "Flag", text, error)) == NULL)
    return NULL;
  g_free (text);
  text = g_strdup_printf ("practitioner=%s&status=active&code=%s%%7Cout-of-range", escaped,
                          WZ_FOLLOWUP_ALERT_SYSTEM);
  if ((flagged = wz_followup_search_stored (store, "Flag", text, error)) == NULL)
    return NULL;

  add_tasks (rows, owned, practitioner, today, &n_due, &n_overdue);
  for (guint i = 0; i < flagged->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (flagged, i);

      if (stored->patient != NULL)
        row_for (rows, stored->patient)->worst = MAX (row_for (rows, stored->patient)->worst, 1);
    }
  for (guint i = 0; i < urgent->len; i++)
    {
      WzStoredResource *stored = g_ptr_array_index (urgent, i);

      if (stored->patient != NULL)
        row_for (rows, stored->patient)->worst = 2;
    }

  g_hash_table_iter_init (&iter, rows);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Row *row = value;

      if (row->worst == 2)
        n_urgent++;
      else if (row->worst == 1)
        n_flagged++;
      g_ptr_array_add (sorted, row);
    }
  g_ptr_array_sort (sorted, compare_rows);
  for (guint i = offset; i < sorted->len && page->len < count; i++)
    g_ptr_array_add (page, g_ptr_array_index (sorted, i));

  if ((rows_text = page_patients (store, page, practitioner, today, lang, error)) == NULL)
    return NULL;

  wz_json_writer_init (&writer);
  wz_json_writer_begin_object (&writer);
  wz_json_writer_set_string (&writer, "date", day);
  wz_json_writer_set_string (&writer, "timeZone", time_zone_name);
  wz_json_writer_set_string (&writer, "practitioner", practitioner);
  wz_json_writer_member (&writer, "counts");
  wz_json_writer_begin_object (&writer);
  wz_json_writer_member (&writer, "patients");
  wz_json_writer_int (&writer, sorted->len);
  wz_json_writer_member (&writer, "due");
  wz_json_writer_int (&writer, n_due);
  wz_json_writer_member (&writer, "overdue");
  wz_json_writer_int (&writer, n_overdue);
  wz_json_writer_member (&writer, "flagged");
  wz_json_writer_int (&writer, n_flagged);
  wz_json_writer_member (&writer, "urgent");
  wz_json_writer_int (&writer, n_urgent);
  wz_json_writer_end_object (&writer);
  wz_json_writer_member (&writer, "total");
  wz_json_writer_int (&writer, sorted->len);
  wz_json_writer_member (&writer, "offset");
  wz_json_writer_int (&writer, offset);
  wz_json_writer_member (&writer, "count");
  wz_json_writer_int (&writer, page->len);
  wz_json_writer_end_object (&writer);
  envelope = wz_json_writer_finish (&writer);

  /* The rows are JSON text already: spliced in as the last member. */
  out = g_string_new_len (g_bytes_get_data (envelope, NULL), g_bytes_get_size (envelope) - 1);
  g_string_append (out, ",\"patients\":");
  g_string_append_len (out, g_bytes_get_data (rows_text, NULL), g_bytes_get_size (rows_text));
  g_string_append_c (out, '}');
  return g_string_free_to_bytes (out);
}
