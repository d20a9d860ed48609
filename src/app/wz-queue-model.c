/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-queue-model"

#include "config.h"

#include "wz-queue-model.h"

#include <string.h>
#include <glib/gi18n.h>
#ifdef __GLIBC__
# include <malloc.h>
#endif

#include "wz-queue-filter.h"
#include "wz-test-report.h"
#include "wz-time.h"

/* An index of the model's rows by a string of their item (the visit's id, the patient's id):
 * open addressing with linear probing over row numbers, so 100,000 visits cost 4 bytes a slot
 * instead of a hash table's key, value and hash and a list node per patient. The strings are
 * read from the items, so an item leaves the index before its strings change. */
typedef struct
{
  guint32     *slots;   /* row + 1; 0 when free */
  guint        size;    /* a power of two, or 0 */
  guint        used;
  const char *(*key) (WzQueueItem *item);
} RowIndex;

/* The doctor's worklist for today: one WzQueueItem per Encounter of today that names the doctor
 * and is waiting, in consultation or finished, with its Patient. Loaded page by page with
 * `_include=Encounter:subject`, then kept current one resource at a time from websocket events
 * (each event reads the one resource it names and changes one row with exact items-changed
 * positions), and after a reconnect from `_lastUpdated` searches, so a dropped connection loses
 * nothing. Allergies are looked up for the rows on screen, in batches. */
struct _WzQueueModel
{
  GObject       parent_instance;

  WzApiClient  *client;
  GCancellable *cancellable;
  char         *practitioner;
  GDate         today;
  gint64        day_start_us;
  gint64        day_end_us;

  GPtrArray    *items;
  /* Each item in items has a row number that stays while it is in the model (positions move
   * when others leave), so views can keep per-row state in plain arrays. Its search key lives
   * in the key store under that row: one sequential pass per keystroke, no allocation each. */
  GPtrArray    *rows;             /* row → item in items, or NULL for a free row */
  GArray       *free_rows;        /* guint */
  WzQueueKeyStore *keys;
  RowIndex      by_encounter;     /* encounter id → the row of its visit */
  RowIndex      by_patient;       /* patient id → the rows of their visits */
  GHashTable   *waiting_patient;  /* encounter id → item, not shown until its patient is read */
  GHashTable   *open_approvals;   /* Task id → encounter id of an open approval */
  guint         counts[WZ_QUEUE_N_STATUSES];

  /* The newest meta.lastUpdated among the results of complete searches: everything changed
   * after it was either pushed to us or is found by a `_lastUpdated=gt` search. */
  gint64        watermark_us;
  GHashTable   *retry;            /* "Type/id" whose event could not be read */

  GHashTable   *allergy_queue;    /* patient ids whose allergies are to be read */
  GHashTable   *allergy_read;     /* patient ids read (or being read) since the load */
  guint         allergy_source;

  /* The thread that prepares the pages of a load (pinyin keys), started for a load and ended
   * with it: what it keeps per thread (the pinyin cache, its malloc arena) goes with it. */
  GThread      *page_thread;
  GAsyncQueue  *page_jobs;        /* GTask, or the queue itself to end the thread */

  guint         loading;
  gboolean      loaded;
  gboolean      catch_up_pending;
};

static void wz_queue_model_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (WzQueueModel, wz_queue_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      wz_queue_model_list_model_init))

enum {
  PROP_0,
  PROP_LOADING,
  PROP_LOADED,
  PROP_N_WAITING,
  PROP_N_IN_CONSULTATION,
  PROP_N_AWAITING_PHARMACIST,
  PROP_N_FINISHED,
  PROP_N_ALL,
  N_PROPS
};

enum {
  LOAD_FINISHED,
  ITEM_ADDED,
  ERROR,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* The server returns at most 200 per page. */
#define PAGE_SIZE 200
/* Ids per `_id=`/`patient=` search, so the URL stays short. */
#define BATCH_IDS 40
/* Rows bound within this time share one allergy search. */
#define ALLERGY_BATCH_DELAY_MS 80

#define QUEUE_STATUSES "arrived,triaged,in-progress,finished"

/* ---------------------------------------------------------------------------------------- */
/* GListModel */

static GType
wz_queue_model_get_item_type (GListModel *model)
{
  return WZ_TYPE_QUEUE_ITEM;
}

static guint
wz_queue_model_get_n_items (GListModel *model)
{
  return WZ_QUEUE_MODEL (model)->items->len;
}

static gpointer
wz_queue_model_get_item (GListModel *model,
                         guint       position)
{
  WzQueueModel *self = WZ_QUEUE_MODEL (model);

  if (position >= self->items->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
wz_queue_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = wz_queue_model_get_item_type;
  iface->get_n_items = wz_queue_model_get_n_items;
  iface->get_item = wz_queue_model_get_item;
}

/* ---------------------------------------------------------------------------------------- */
/* Helpers */

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

static const char *
reference_id (const char *reference,
              const char *type)
{
  gsize len = strlen (type);

  if (reference == NULL || strncmp (reference, type, len) != 0 || reference[len] != '/'
      || reference[len + 1] == '\0')
    return NULL;

  return reference + len + 1;
}

static guint
resource_version (JsonObject *resource)
{
  const char *text = string_member (object_member (resource, "meta"), "versionId");
  guint64 version = 0;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &version, NULL))
    return G_MAXUINT;

  return (guint) version;
}

static void
note_last_updated (gint64     *newest,
                   JsonObject *resource)
{
  const char *text = string_member (object_member (resource, "meta"), "lastUpdated");
  gint64 us;

  if (text != NULL && wz_time_parse_instant (text, &us, NULL) && us > *newest)
    *newest = us;
}

/* The resources of a searchset, split by type. */
typedef struct
{
  GPtrArray  *encounters;  /* JsonObject, borrowed from the bundle */
  GHashTable *patients;    /* id → WzQueuePatient */
  GPtrArray  *others;
  char       *next;        /* path of the next page, or NULL */
  gint64      newest_us;
} Page;

static void
page_clear (Page *page)
{
  g_clear_pointer (&page->encounters, g_ptr_array_unref);
  g_clear_pointer (&page->patients, g_hash_table_unref);
  g_clear_pointer (&page->others, g_ptr_array_unref);
  g_clear_pointer (&page->next, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Page, page_clear)

/* A next link is an absolute URL on the server; requests take the path after the base. */
static char *
path_of_link (const char *url)
{
  const char *fhir = url != NULL ? strstr (url, "/fhir/") : NULL;

  return fhir != NULL ? g_strdup (fhir) : NULL;
}

/* Splits a searchset and prepares its patients (pinyin and all): safe on a worker thread. */
static gboolean
read_page (JsonNode *node,
           GDate    *today,
           Page     *page)
{
  JsonObject *bundle;
  JsonArray *entries;
  JsonArray *links;

  page->encounters = g_ptr_array_new ();
  page->patients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) wz_queue_patient_free);
  page->others = g_ptr_array_new ();

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  bundle = json_node_get_object (node);
  if (g_strcmp0 (string_member (bundle, "resourceType"), "Bundle") != 0)
    return FALSE;

  entries = array_member (bundle, "entry");
  for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
    {
      JsonObject *resource = object_member (array_object (entries, i), "resource");
      const char *type = string_member (resource, "resourceType");
      const char *id = string_member (resource, "id");

      if (type == NULL || id == NULL)
        continue;

      note_last_updated (&page->newest_us, resource);
      if (strcmp (type, "Encounter") == 0)
        g_ptr_array_add (page->encounters, resource);
      else if (strcmp (type, "Patient") == 0)
        g_hash_table_insert (page->patients, g_strdup (id), wz_queue_patient_new (resource, today));
      else
        g_ptr_array_add (page->others, resource);
    }

  links = array_member (bundle, "link");
  for (guint i = 0; links != NULL && i < json_array_get_length (links); i++)
    {
      JsonObject *link = array_object (links, i);

      if (g_strcmp0 (string_member (link, "relation"), "next") == 0)
        page->next = path_of_link (string_member (link, "url"));
    }

  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* Counts */

static void
notify_counts (WzQueueModel *self)
{
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_WAITING]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_IN_CONSULTATION]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_AWAITING_PHARMACIST]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_FINISHED]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ALL]);
  g_object_thaw_notify (G_OBJECT (self));
}

static void
count_status (WzQueueModel  *self,
              WzQueueStatus  status,
              int            delta)
{
  if (status < WZ_QUEUE_N_STATUSES)
    self->counts[status] = (guint) ((int) self->counts[status] + delta);
}

guint
wz_queue_model_get_count (WzQueueModel  *self,
                          WzQueueStatus  status)
{
  g_return_val_if_fail (WZ_IS_QUEUE_MODEL (self), 0);

  if (status == WZ_QUEUE_STATUS_ALL)
    return self->items->len;
  if (status >= WZ_QUEUE_N_STATUSES)
    return 0;

  return self->counts[status];
}

/* ---------------------------------------------------------------------------------------- */
/* Row indexes */

#define ROW_INDEX_MIN_SIZE 64

static void
row_index_init (RowIndex      *index,
                const char *(*key) (WzQueueItem *item))
{
  *index = (RowIndex) { .key = key };
}

static void
row_index_clear (RowIndex *index)
{
  g_clear_pointer (&index->slots, g_free);
  index->size = 0;
  index->used = 0;
}

static inline WzQueueItem *
slot_item (WzQueueModel *self,
           guint32       slot)
{
  return g_ptr_array_index (self->rows, slot - 1);
}

static void row_index_put (WzQueueModel *self, RowIndex *index, guint row);

static void
row_index_grow (WzQueueModel *self,
                RowIndex     *index)
{
  guint32 *old = index->slots;
  guint old_size = index->size;

  index->size = MAX (ROW_INDEX_MIN_SIZE, old_size * 2);
  index->slots = g_new0 (guint32, index->size);
  index->used = 0;
  for (guint i = 0; i < old_size; i++)
    if (old[i] != 0)
      row_index_put (self, index, old[i] - 1);
  g_free (old);
}

static void
row_index_put (WzQueueModel *self,
               RowIndex     *index,
               guint         row)
{
  const char *key = index->key (g_ptr_array_index (self->rows, row));
  guint mask, i;

  if (key == NULL)
    return;
  /* At most three quarters full: a miss looks at a few slots, not a long run. */
  if ((index->used + 1) * 4 > index->size * 3)
    row_index_grow (self, index);

  mask = index->size - 1;
  for (i = g_str_hash (key) & mask; index->slots[i] != 0; i = (i + 1) & mask)
    ;
  index->slots[i] = row + 1;
  index->used++;
}

static void
row_index_add (WzQueueModel *self,
               RowIndex     *index,
               WzQueueItem  *item)
{
  g_assert (wz_queue_item_get_row (item) != G_MAXUINT);

  row_index_put (self, index, wz_queue_item_get_row (item));
}

static void
row_index_remove (WzQueueModel *self,
                  RowIndex     *index,
                  WzQueueItem  *item)
{
  const char *key = index->key (item);
  guint32 slot = wz_queue_item_get_row (item) + 1;
  guint mask, hole, i;

  if (key == NULL || index->size == 0 || slot == 0)
    return;

  mask = index->size - 1;
  for (hole = g_str_hash (key) & mask; index->slots[hole] != slot; hole = (hole + 1) & mask)
    if (index->slots[hole] == 0)
      return;

  /* Later slots of the run move back into the hole when their home is at or before it, so
   * every key stays reachable from its home without gaps. */
  for (i = (hole + 1) & mask; index->slots[i] != 0; i = (i + 1) & mask)
    {
      guint home = g_str_hash (index->key (slot_item (self, index->slots[i]))) & mask;

      if (((i - home) & mask) >= ((i - hole) & mask))
        {
          index->slots[hole] = index->slots[i];
          hole = i;
        }
    }
  index->slots[hole] = 0;
  index->used--;
}

/* The first item whose string is KEY, then the next ones with *CURSOR (start at 0). */
static WzQueueItem *
row_index_next (WzQueueModel *self,
                RowIndex     *index,
                const char   *key,
                guint        *cursor)
{
  guint mask, i, step;

  if (key == NULL || index->size == 0)
    return NULL;

  mask = index->size - 1;
  for (step = *cursor, i = (g_str_hash (key) + step) & mask;
       step < index->size && index->slots[i] != 0;
       step++, i = (i + 1) & mask)
    {
      WzQueueItem *item = slot_item (self, index->slots[i]);

      if (strcmp (index->key (item), key) == 0)
        {
          *cursor = step + 1;
          return item;
        }
    }

  *cursor = index->size;
  return NULL;
}

static WzQueueItem *
row_index_find (WzQueueModel *self,
                RowIndex     *index,
                const char   *key)
{
  guint cursor = 0;

  return row_index_next (self, index, key, &cursor);
}

/* The items whose string is KEY, in a new array (safe to change the index while using it). */
static GPtrArray *
row_index_find_all (WzQueueModel *self,
                    RowIndex     *index,
                    const char   *key)
{
  GPtrArray *items = g_ptr_array_new ();
  guint cursor = 0;
  WzQueueItem *item;

  while ((item = row_index_next (self, index, key, &cursor)) != NULL)
    g_ptr_array_add (items, item);

  return items;
}

/* ---------------------------------------------------------------------------------------- */
/* Rows and keys */

/* The item's own key moves into the store. */
static void
store_key (WzQueueModel *self,
           WzQueueItem  *item)
{
  const WzQueueKey *key = wz_queue_item_get_key (item);

  if (key == NULL || wz_queue_item_key_is_borrowed (item))
    return;

  wz_queue_item_borrow_key (item, wz_queue_key_store_add (self->keys, wz_queue_item_get_row (item), key));
}

/* Keys of rows that left or changed are dead weight in the store; once they outweigh the live
 * ones (a long day of live updates), the live keys move to a new store. */
static void
compact_keys (WzQueueModel *self)
{
  g_autoptr(WzQueueKeyStore) old = NULL;

  if (wz_queue_key_store_get_dead (self->keys) < 1024 * 1024
      || wz_queue_key_store_get_dead (self->keys) < wz_queue_key_store_get_live (self->keys))
    return;

  old = g_steal_pointer (&self->keys);
  self->keys = wz_queue_key_store_new ();
  for (guint row = 0; row < self->rows->len; row++)
    {
      WzQueueItem *item = g_ptr_array_index (self->rows, row);

      if (item != NULL && wz_queue_item_key_is_borrowed (item))
        wz_queue_item_borrow_key (item, wz_queue_key_store_add (self->keys, row,
                                                                wz_queue_item_get_key (item)));
    }
}

static void
attach_row (WzQueueModel *self,
            WzQueueItem  *item)
{
  guint row;

  if (self->free_rows->len > 0)
    {
      row = g_array_index (self->free_rows, guint, self->free_rows->len - 1);
      g_array_set_size (self->free_rows, self->free_rows->len - 1);
      g_ptr_array_index (self->rows, row) = item;
    }
  else
    {
      row = self->rows->len;
      g_ptr_array_add (self->rows, item);
    }

  wz_queue_item_set_row (item, row);
  store_key (self, item);
}

static void
detach_row (WzQueueModel *self,
            WzQueueItem  *item)
{
  guint row = wz_queue_item_get_row (item);

  if (row == G_MAXUINT)
    return;

  /* The item may live on (a row on screen, the call page): it keeps a key of its own. */
  if (wz_queue_item_key_is_borrowed (item))
    {
      const WzQueueKey *key = wz_queue_item_get_key (item);

      wz_queue_item_own_key (item);
      wz_queue_key_store_remove (self->keys, key);
    }

  g_ptr_array_index (self->rows, row) = NULL;
  g_array_append_val (self->free_rows, row);
  wz_queue_item_set_row (item, G_MAXUINT);
}

static void index_patient (WzQueueModel *self, WzQueueItem *item);
static void unindex_patient (WzQueueModel *self, WzQueueItem *item);

/* The indexes borrow the item's visit and patient ids, which move when any of its strings
 * changes: an item in the model leaves them before a change and comes back after. */
static void
unindex (WzQueueModel *self,
         WzQueueItem  *item)
{
  unindex_patient (self, item);
  row_index_remove (self, &self->by_encounter, item);
}

static void
reindex (WzQueueModel *self,
         WzQueueItem  *item)
{
  row_index_add (self, &self->by_encounter, item);
  index_patient (self, item);
}

/* wz_queue_item_set_patient() for items that may be in the model: its key is in the store. */
static gboolean
set_patient (WzQueueModel         *self,
             WzQueueItem          *item,
             const WzQueuePatient *patient)
{
  const WzQueueKey *old_key = wz_queue_item_get_key (item);
  gboolean borrowed = wz_queue_item_key_is_borrowed (item);
  gboolean in_model = wz_queue_item_get_row (item) != G_MAXUINT;
  gboolean changed;

  if (in_model)
    unindex (self, item);
  changed = wz_queue_item_set_patient (item, patient);
  if (in_model)
    reindex (self, item);

  if (borrowed && wz_queue_item_get_key (item) != old_key)
    {
      wz_queue_key_store_remove (self->keys, old_key);
      store_key (self, item);
      compact_keys (self);
    }

  return changed;
}

/* For WzQueueView. */
guint
wz_queue_model_get_n_rows (WzQueueModel *self)
{
  return self->rows->len;
}

WzQueueItem *
wz_queue_model_get_row_item (WzQueueModel *self,
                             guint         row)
{
  return row < self->rows->len ? g_ptr_array_index (self->rows, row) : NULL;
}

WzQueueItem *
wz_queue_model_peek_item (WzQueueModel *self,
                          guint         position)
{
  return position < self->items->len ? g_ptr_array_index (self->items, position) : NULL;
}

/**
 * wz_queue_model_match_rows:
 * @query: a search that is not empty
 * @matches: (array length=n_rows): set to 1 at each row whose patient the search finds
 */
void
wz_queue_model_match_rows (WzQueueModel       *self,
                           const WzQueueQuery *query,
                           guint8             *matches,
                           guint               n_rows)
{
  g_return_if_fail (WZ_IS_QUEUE_MODEL (self));

  wz_queue_key_store_match (self->keys, query, matches, n_rows);
}

/* ---------------------------------------------------------------------------------------- */
/* Changing the list */

static guint
position_of (WzQueueModel *self,
             WzQueueItem  *item)
{
  guint position = 0;

  if (!g_ptr_array_find (self->items, item, &position))
    return G_MAXUINT;

  return position;
}

WzQueueItem *
wz_queue_model_find (WzQueueModel *self,
                     const char   *encounter_id,
                     guint        *position)
{
  WzQueueItem *item;

  g_return_val_if_fail (WZ_IS_QUEUE_MODEL (self), NULL);

  item = row_index_find (self, &self->by_encounter, encounter_id);
  if (position != NULL)
    *position = item != NULL ? position_of (self, item) : G_MAXUINT;

  return item;
}

/* A patient can have several visits a day: each is in the index under the patient's id. */
static void
index_patient (WzQueueModel *self,
               WzQueueItem  *item)
{
  row_index_add (self, &self->by_patient, item);
}

static void
unindex_patient (WzQueueModel *self,
                 WzQueueItem  *item)
{
  row_index_remove (self, &self->by_patient, item);
}

static void
remove_item (WzQueueModel *self,
             WzQueueItem  *item)
{
  guint position = position_of (self, item);

  if (position == G_MAXUINT)
    return;

  count_status (self, wz_queue_item_get_status (item), -1);
  unindex_patient (self, item);
  row_index_remove (self, &self->by_encounter, item);
  detach_row (self, item);
  compact_keys (self);
  g_ptr_array_remove_index (self->items, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
  notify_counts (self);
}

static void
item_changed (WzQueueModel  *self,
              WzQueueItem   *item,
              WzQueueStatus  old_status)
{
  guint position = position_of (self, item);

  if (position == G_MAXUINT)
    return;

  if (old_status != wz_queue_item_get_status (item))
    {
      count_status (self, old_status, -1);
      count_status (self, wz_queue_item_get_status (item), +1);
      notify_counts (self);
    }

  /* Filters and sorters look at the item again; the row keeps its widget. */
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 1);
}

/* Appends items whose patient is known, in one items-changed. */
static void
append_items (WzQueueModel *self,
              GPtrArray    *items,
              gboolean      live)
{
  guint position = self->items->len;

  if (items->len == 0)
    return;

  for (guint i = 0; i < items->len; i++)
    {
      WzQueueItem *item = items->pdata[i];

      g_ptr_array_add (self->items, g_object_ref (item));
      attach_row (self, item);
      row_index_add (self, &self->by_encounter, item);
      index_patient (self, item);
      count_status (self, wz_queue_item_get_status (item), +1);
    }

  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, items->len);
  notify_counts (self);

  if (live)
    for (guint i = 0; i < items->len; i++)
      g_signal_emit (self, signals[ITEM_ADDED], 0, items->pdata[i]);
}

static gboolean
names_practitioner (WzQueueModel *self,
                    JsonObject   *encounter)
{
  JsonArray *participants = array_member (encounter, "participant");

  /* Without a doctor to compare (tests), every Encounter the server sent counts. */
  if (self->practitioner == NULL)
    return TRUE;

  for (guint i = 0; participants != NULL && i < json_array_get_length (participants); i++)
    {
      JsonObject *individual = object_member (array_object (participants, i), "individual");

      if (g_strcmp0 (string_member (individual, "reference"), self->practitioner) == 0)
        return TRUE;
    }

  return FALSE;
}

static gboolean
belongs_in_queue (WzQueueModel *self,
                  JsonObject   *encounter)
{
  const char *start = string_member (object_member (encounter, "period"), "start");
  gint64 start_us;

  if (wz_queue_status_from_encounter (string_member (encounter, "status")) == WZ_QUEUE_STATUS_NONE)
    return FALSE;
  if (start == NULL || !wz_time_parse_instant (start, &start_us, NULL))
    return FALSE;
  if (self->day_end_us != 0 && (start_us < self->day_start_us || start_us >= self->day_end_us))
    return FALSE;

  return names_practitioner (self, encounter);
}

static void fetch_patients (WzQueueModel *self,
                            GPtrArray    *patient_ids,
                            gboolean      live);

/* Applies Encounters (with the Patients sent along) to the list: updates in place, removes what
 * left the queue, appends what joined. Encounters whose Patient is not known yet wait for it.
 * SEEN, when set, collects the encounter ids a full load found. */
static void
apply_encounters (WzQueueModel *self,
                  GPtrArray    *encounters,
                  GHashTable   *patients,
                  gboolean      live,
                  GHashTable   *seen)
{
  g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) missing_set = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < encounters->len; i++)
    {
      JsonObject *encounter = encounters->pdata[i];
      const char *id = string_member (encounter, "id");
      WzQueueItem *item = row_index_find (self, &self->by_encounter, id);
      WzQueueItem *pending = g_hash_table_lookup (self->waiting_patient, id);
      WzQueuePatient *patient;
      const char *patient_id;

      if (!belongs_in_queue (self, encounter))
        {
          /* Only a version at least as new as the row's may take it away. */
          if (item != NULL && resource_version (encounter) >= wz_queue_item_get_version (item))
            remove_item (self, item);
          if (pending != NULL)
            g_hash_table_remove (self->waiting_patient, id);
          continue;
        }

      if (seen != NULL)
        g_hash_table_add (seen, g_strdup (id));

      if (item != NULL)
        {
          WzQueueStatus old_status = wz_queue_item_get_status (item);
          gboolean changed;

          /* The subject could change, and with it the index keys the item lends. */
          unindex (self, item);
          changed = wz_queue_item_apply_encounter (item, encounter);
          reindex (self, item);

          patient = g_hash_table_lookup (patients, wz_queue_item_get_patient_id (item));
          if (patient != NULL && set_patient (self, item, patient))
            changed = TRUE;
          if (changed)
            item_changed (self, item, old_status);
          continue;
        }

      item = pending != NULL ? g_object_ref (pending) : wz_queue_item_new (id);
      wz_queue_item_apply_encounter (item, encounter);
      patient_id = wz_queue_item_get_patient_id (item);
      patient = patient_id != NULL ? g_hash_table_lookup (patients, patient_id) : NULL;

      if (patient != NULL)
        {
          set_patient (self, item, patient);
          if (pending != NULL)
            g_hash_table_remove (self->waiting_patient, id);
          g_ptr_array_add (added, item);
        }
      else if (patient_id != NULL)
        {
          if (pending == NULL)
            g_hash_table_insert (self->waiting_patient, g_strdup (id), g_object_ref (item));
          if (g_hash_table_add (missing_set, (gpointer) patient_id))
            g_ptr_array_add (missing, g_strdup (patient_id));
          g_object_unref (item);
        }
      else
        {
          /* A visit without a patient cannot be shown; the server never stores one. */
          g_debug ("Encounter/%s has no Patient subject", id);
          g_object_unref (item);
        }
    }

  append_items (self, added, live);

  if (missing->len > 0)
    fetch_patients (self, missing, live);
}

/* Patients read on their own (a new visit's patient, or a changed one). */
static void
apply_patients (WzQueueModel *self,
                GHashTable   *patients,
                gboolean      live)
{
  g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer key, value;

  if (g_hash_table_size (patients) == 0)
    return;

  g_hash_table_iter_init (&iter, self->waiting_patient);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      WzQueueItem *item = value;
      WzQueuePatient *patient = g_hash_table_lookup (patients, wz_queue_item_get_patient_id (item));

      if (patient == NULL)
        continue;
      set_patient (self, item, patient);
      g_ptr_array_add (added, g_object_ref (item));
      g_hash_table_iter_remove (&iter);
    }

  /* Visits already shown whose patient changed (or was read again). Setting the patient
   * re-indexes the visit, so the list is copied first. */
  g_hash_table_iter_init (&iter, patients);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autoptr(GPtrArray) visits = row_index_find_all (self, &self->by_patient, key);

      for (guint i = 0; i < visits->len; i++)
        if (set_patient (self, visits->pdata[i], value))
          {
            guint position = position_of (self, visits->pdata[i]);

            if (position != G_MAXUINT)
              g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 1);
          }
    }

  append_items (self, added, live);
}

/**
 * wz_queue_model_add_items:
 * @items: (element-type WzQueueItem): visits built without a server
 *
 * Appends visits as a load would. For benchmarks and tests that need large worklists.
 */
void
wz_queue_model_add_items (WzQueueModel *self,
                          GPtrArray    *items)
{
  g_return_if_fail (WZ_IS_QUEUE_MODEL (self));
  g_return_if_fail (items != NULL);

  append_items (self, items, FALSE);
}

void
wz_queue_model_apply_bundle (WzQueueModel *self,
                             JsonNode     *bundle,
                             gboolean      live)
{
  g_auto(Page) page = { 0 };

  g_return_if_fail (WZ_IS_QUEUE_MODEL (self));

  if (!read_page (bundle, &self->today, &page))
    return;

  apply_encounters (self, page.encounters, page.patients, live, NULL);
  apply_patients (self, page.patients, live);
}

/* ---------------------------------------------------------------------------------------- */
/* Requests */

static void
report_error (WzQueueModel *self,
              const GError *error,
              const char   *what)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_debug ("Reading %s failed: %s", what, error->message);
  g_signal_emit (self, signals[ERROR], 0, error);
}

static void
set_loading (WzQueueModel *self,
             gboolean      loading)
{
  gboolean was = self->loading > 0;

  if (loading)
    self->loading++;
  else if (self->loading > 0)
    self->loading--;

  if (was != (self->loading > 0))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

typedef struct
{
  WzQueueModel *self;
  GCancellable *cancellable;
  GHashTable   *seen;        /* full load: the encounters found; NULL for a catch-up */
  gboolean      live;
  gint64        newest_us;
  const char   *what;
} Load;

static void
load_free (Load *load)
{
  g_clear_object (&load->self);
  g_clear_object (&load->cancellable);
  g_clear_pointer (&load->seen, g_hash_table_unref);
  g_free (load);
}

static void load_tasks (Load *load, const char *path);
static void stop_page_thread (WzQueueModel *self);
static void load_catch_up_others (Load *load, const char *path);

static char *
encounter_search (WzQueueModel *self,
                  const char   *extra)
{
  g_autofree char *start = wz_time_format_instant (self->day_start_us);
  g_autofree char *end = wz_time_format_instant (self->day_end_us);
  g_autofree char *practitioner = g_uri_escape_string (self->practitioner, NULL, FALSE);

  /* The queue follows next links and never shows a total: not counting every visit of a long
   * day on every page saves the server most of the work of a page. */
  return g_strdup_printf ("/fhir/Encounter?practitioner=%s&date=ge%s&date=lt%s"
                          "&_include=Encounter:subject&_total=none&_count=%d%s",
                          practitioner, start, end, PAGE_SIZE, extra);
}

static void
finish_load (Load   *load,
             GError *error)
{
  WzQueueModel *self = load->self;

  if (error == NULL && load->seen != NULL)
    {
      /* A full load: whatever it did not find has left the queue. */
      for (guint i = self->items->len; i > 0; i--)
        {
          WzQueueItem *item = self->items->pdata[i - 1];

          if (!g_hash_table_contains (load->seen, wz_queue_item_get_encounter_id (item)))
            remove_item (self, item);
        }
    }

  if (error == NULL && load->newest_us > self->watermark_us)
    self->watermark_us = load->newest_us;

  if (error == NULL)
    wz_test_report ("queue-load kind=%s items=%u", load->seen != NULL ? "full" : "catch-up",
                    self->items->len);

  if (error == NULL && !self->loaded)
    {
      self->loaded = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADED]);
    }

  set_loading (self, FALSE);
  if (self->loading == 0)
    stop_page_thread (self);

#ifdef __GLIBC__
  /* A large load parsed megabytes of JSON on worker threads and built its keys on the page
   * thread, which has ended; give the freed heap back. */
  if (error == NULL && load->seen != NULL && self->items->len > 1000)
    malloc_trim (0);
#endif

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_signal_emit (self, signals[LOAD_FINISHED], 0, error);

  /* A connection came up while this was read: what changed meanwhile is read now. */
  if (self->catch_up_pending && self->loading == 0 && self->cancellable != NULL
      && !g_cancellable_is_cancelled (self->cancellable))
    {
      self->catch_up_pending = FALSE;
      wz_queue_model_catch_up (self);
    }

  load_free (load);
}

/* A page of visits is split and its patients prepared on a worker thread: pinyin of 200 names
 * is too slow for the main loop. */
typedef struct
{
  JsonNode *node;
  GDate     today;
  Page      page;
  gboolean  ok;
} PageJob;

static void
page_job_free (PageJob *job)
{
  page_clear (&job->page);
  g_clear_pointer (&job->node, json_node_unref);
  g_free (job);
}

static gpointer
page_thread_main (gpointer data)
{
  GAsyncQueue *jobs = data;
  GTask *task;

  while ((task = g_async_queue_pop (jobs)) != (gpointer) jobs)
    {
      PageJob *job = g_task_get_task_data (task);

      job->ok = read_page (job->node, &job->today, &job->page);
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }

  g_async_queue_unref (jobs);

  return NULL;
}

static void
run_in_page_thread (WzQueueModel *self,
                    GTask        *task)
{
  if (self->page_thread == NULL)
    {
      self->page_jobs = g_async_queue_new ();
      self->page_thread = g_thread_new ("wz-queue-pages", page_thread_main,
                                        g_async_queue_ref (self->page_jobs));
    }

  g_async_queue_push (self->page_jobs, g_object_ref (task));
}

/* Waits for the page being prepared, if any (its answer still arrives through its task). */
static void
stop_page_thread (WzQueueModel *self)
{
  if (self->page_thread == NULL)
    return;

  g_async_queue_push (self->page_jobs, self->page_jobs);
  g_thread_join (g_steal_pointer (&self->page_thread));
  g_clear_pointer (&self->page_jobs, g_async_queue_unref);
}

static void on_encounter_page_read (GObject      *object,
                                    GAsyncResult *result,
                                    gpointer      user_data);

static void
on_encounter_page (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Load *load = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;
  JsonNode *node;
  PageJob *job;

  node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  if (node == NULL)
    {
      finish_load (load, error);
      return;
    }

  job = g_new0 (PageJob, 1);
  job->node = node;
  job->today = load->self->today;
  task = g_task_new (load->self, load->cancellable, on_encounter_page_read, load);
  g_task_set_source_tag (task, on_encounter_page);
  g_task_set_task_data (task, job, (GDestroyNotify) page_job_free);
  run_in_page_thread (load->self, task);
}

static void
on_encounter_page_read (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  Load *load = user_data;
  WzQueueModel *self = load->self;
  PageJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  Page page;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      finish_load (load, error);
      return;
    }

  if (!job->ok)
    {
      g_autoptr(GError) not_bundle =
        g_error_new_literal (WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_WENZHEN,
                             _("The server’s answer was not a list of visits. Check that the server is up to date."));
      finish_load (load, not_bundle);
      return;
    }

  page = job->page;
  load->newest_us = MAX (load->newest_us, page.newest_us);
  apply_encounters (self, page.encounters, page.patients, load->live, load->seen);
  apply_patients (self, page.patients, load->live);

  if (page.next != NULL)
    wz_api_client_get_json_async (self->client, page.next, load->cancellable,
                                  on_encounter_page, load);
  else if (load->seen != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/fhir/Task?status=requested&_count=%d", PAGE_SIZE);

      /* Which finished visits wait for the pharmacist: the open approval Tasks. */
      g_hash_table_remove_all (self->open_approvals);
      load_tasks (load, path);
    }
  else
    {
      g_autofree char *since = wz_time_format_instant (self->watermark_us);
      g_autofree char *path = g_strdup_printf ("/fhir/Task?_lastUpdated=gt%s&_count=%d",
                                               since, PAGE_SIZE);

      load_catch_up_others (load, path);
    }
}

static gboolean
task_is_open_approval (JsonObject *task)
{
  JsonArray *codings = array_member (object_member (task, "code"), "coding");
  const char *status = string_member (task, "status");
  gboolean approve = FALSE;

  for (guint i = 0; codings != NULL && i < json_array_get_length (codings); i++)
    if (g_strcmp0 (string_member (array_object (codings, i), "code"), "approve") == 0)
      approve = TRUE;

  return approve
    && (g_strcmp0 (status, "requested") == 0 || g_strcmp0 (status, "received") == 0
        || g_strcmp0 (status, "accepted") == 0 || g_strcmp0 (status, "in-progress") == 0
        || g_strcmp0 (status, "ready") == 0);
}

static void
update_awaiting (WzQueueModel *self,
                 const char   *encounter_id)
{
  WzQueueItem *item = encounter_id != NULL ? row_index_find (self, &self->by_encounter, encounter_id)
                                           : NULL;
  GHashTableIter iter;
  gpointer value;
  gboolean awaiting = FALSE;
  WzQueueStatus old_status;

  if (item == NULL)
    return;

  g_hash_table_iter_init (&iter, self->open_approvals);
  while (!awaiting && g_hash_table_iter_next (&iter, NULL, &value))
    awaiting = g_strcmp0 (value, encounter_id) == 0;

  old_status = wz_queue_item_get_status (item);
  if (wz_queue_item_set_awaiting_pharmacist (item, awaiting))
    item_changed (self, item, old_status);
}

/* Records a Task; returns the encounter whose state may have changed. */
static const char *
apply_task (WzQueueModel *self,
            JsonObject   *task)
{
  const char *id = string_member (task, "id");
  const char *encounter = reference_id (string_member (object_member (task, "encounter"),
                                                       "reference"), "Encounter");
  const char *previous;

  if (id == NULL)
    return NULL;

  previous = g_hash_table_lookup (self->open_approvals, id);
  if (task_is_open_approval (task) && encounter != NULL)
    g_hash_table_insert (self->open_approvals, g_strdup (id), g_strdup (encounter));
  else if (previous != NULL)
    {
      g_autofree char *was = g_strdup (previous);

      g_hash_table_remove (self->open_approvals, id);
      update_awaiting (self, was);
    }

  return encounter;
}

static void
on_task_page (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Load *load = user_data;
  WzQueueModel *self = load->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_auto(Page) page = { 0 };

  node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  if (node == NULL || !read_page (node, &self->today, &page))
    {
      /* The queue itself is loaded; only the pharmacist column may be stale. */
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Reading open Tasks failed: %s", error->message);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          finish_load (load, error);
          return;
        }
      finish_load (load, NULL);
      return;
    }

  for (guint i = 0; i < page.others->len; i++)
    update_awaiting (self, apply_task (self, page.others->pdata[i]));

  if (page.next != NULL)
    wz_api_client_get_json_async (self->client, page.next, load->cancellable, on_task_page, load);
  else
    finish_load (load, NULL);
}

static void
load_tasks (Load       *load,
            const char *path)
{
  wz_api_client_get_json_async (load->self->client, path, load->cancellable, on_task_page, load);
}

static void
start_load (WzQueueModel *self,
            gboolean      full,
            gboolean      live)
{
  Load *load;
  g_autofree char *path = NULL;

  if (self->practitioner == NULL || self->cancellable == NULL)
    return;

  load = g_new0 (Load, 1);
  load->self = g_object_ref (self);
  load->cancellable = g_object_ref (self->cancellable);
  load->live = live;

  if (full)
    {
      load->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      path = encounter_search (self, "&status=" QUEUE_STATUSES);
    }
  else
    {
      g_autofree char *since = wz_time_format_instant (self->watermark_us);
      g_autofree char *extra = g_strdup_printf ("&_lastUpdated=gt%s&_sort=_lastUpdated", since);

      path = encounter_search (self, extra);
    }

  set_loading (self, TRUE);
  wz_api_client_get_json_async (self->client, path, load->cancellable, on_encounter_page, load);
}

/* ---------------------------------------------------------------------------------------- */
/* Catch-up of what is not an Encounter: Tasks, Patients, AllergyIntolerances changed while the
 * connection was down. One chain of searches, each type after the other. */

static void schedule_allergies (WzQueueModel *self, const char *patient_id);

static void
on_catch_up_page (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Load *load = user_data;
  WzQueueModel *self = load->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_auto(Page) page = { 0 };
  g_autofree char *since = NULL;
  g_autofree char *next = NULL;

  node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  if (node == NULL)
    {
      finish_load (load, error);
      return;
    }
  read_page (node, &self->today, &page);
  load->newest_us = MAX (load->newest_us, page.newest_us);

  for (guint i = 0; i < page.others->len; i++)
    {
      JsonObject *resource = page.others->pdata[i];
      const char *type = string_member (resource, "resourceType");

      if (g_strcmp0 (type, "Task") == 0)
        update_awaiting (self, apply_task (self, resource));
      else if (g_strcmp0 (type, "AllergyIntolerance") == 0)
        {
          const char *patient = reference_id (string_member (object_member (resource, "patient"),
                                                             "reference"), "Patient");

          if (patient != NULL && g_hash_table_contains (self->allergy_read, patient))
            {
              g_hash_table_remove (self->allergy_read, patient);
              schedule_allergies (self, patient);
            }
        }
    }
  apply_patients (self, page.patients, load->live);

  if (page.next != NULL)
    {
      wz_api_client_get_json_async (self->client, page.next, load->cancellable,
                                    on_catch_up_page, load);
      return;
    }

  /* Next type in the chain: Task → Patient → AllergyIntolerance → done. */
  since = wz_time_format_instant (self->watermark_us);
  if (g_strcmp0 (load->what, "Task") == 0)
    {
      load->what = "Patient";
      next = g_strdup_printf ("/fhir/Patient?_lastUpdated=gt%s&_count=%d", since, PAGE_SIZE);
    }
  else if (g_strcmp0 (load->what, "Patient") == 0)
    {
      load->what = "AllergyIntolerance";
      next = g_strdup_printf ("/fhir/AllergyIntolerance?_lastUpdated=gt%s&_count=%d", since,
                              PAGE_SIZE);
    }

  if (next != NULL)
    wz_api_client_get_json_async (self->client, next, load->cancellable, on_catch_up_page, load);
  else
    finish_load (load, NULL);
}

static void
load_catch_up_others (Load       *load,
                      const char *path)
{
  load->what = "Task";
  wz_api_client_get_json_async (load->self->client, path, load->cancellable, on_catch_up_page,
                                load);
}

/* ---------------------------------------------------------------------------------------- */
/* Patients read by id */

typedef struct
{
  WzQueueModel *self;
  gboolean      live;
} PatientFetch;

static void
on_patients_read (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  PatientFetch *fetch = user_data;
  g_autoptr(WzQueueModel) self = fetch->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_auto(Page) page = { 0 };
  gboolean live = fetch->live;

  g_free (fetch);

  node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  if (node == NULL)
    {
      report_error (self, error, "patients");
      return;
    }

  read_page (node, &self->today, &page);
  apply_patients (self, page.patients, live);
}

static void
fetch_patients (WzQueueModel *self,
                GPtrArray    *patient_ids,
                gboolean      live)
{
  if (self->client == NULL || self->cancellable == NULL)
    return;

  for (guint start = 0; start < patient_ids->len; start += BATCH_IDS)
    {
      g_autoptr(GString) path = g_string_new ("/fhir/Patient?_count=200&_id=");
      PatientFetch *fetch = g_new0 (PatientFetch, 1);

      for (guint i = start; i < patient_ids->len && i < start + BATCH_IDS; i++)
        {
          if (i > start)
            g_string_append_c (path, ',');
          g_string_append_uri_escaped (path, patient_ids->pdata[i], NULL, FALSE);
        }

      fetch->self = g_object_ref (self);
      fetch->live = live;
      wz_api_client_get_json_async (self->client, path->str, self->cancellable,
                                    on_patients_read, fetch);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Allergies, for the rows on screen */

static gboolean
allergy_counts (JsonObject *allergy)
{
  const char *clinical = NULL;
  const char *verification = NULL;
  JsonArray *codings;

  codings = array_member (object_member (allergy, "clinicalStatus"), "coding");
  if (codings != NULL && json_array_get_length (codings) > 0)
    clinical = string_member (array_object (codings, 0), "code");
  codings = array_member (object_member (allergy, "verificationStatus"), "coding");
  if (codings != NULL && json_array_get_length (codings) > 0)
    verification = string_member (array_object (codings, 0), "code");

  return g_strcmp0 (clinical, "inactive") != 0 && g_strcmp0 (clinical, "resolved") != 0
    && g_strcmp0 (verification, "refuted") != 0
    && g_strcmp0 (verification, "entered-in-error") != 0;
}

static const char *
allergy_name (JsonObject *allergy)
{
  JsonObject *code = object_member (allergy, "code");
  const char *text = string_member (code, "text");
  JsonArray *codings;

  if (text != NULL)
    return text;
  codings = array_member (code, "coding");
  if (codings != NULL && json_array_get_length (codings) > 0)
    text = string_member (array_object (codings, 0), "display");

  return text;
}

typedef struct
{
  GString *names;
  int      count;
} PatientAllergies;

static void
patient_allergies_free (PatientAllergies *allergies)
{
  g_string_free (allergies->names, TRUE);
  g_free (allergies);
}

typedef struct
{
  WzQueueModel *self;
  GHashTable   *found;   /* patient id → PatientAllergies, for every patient asked about */
} AllergyFetch;

static void
allergy_fetch_free (AllergyFetch *fetch)
{
  g_clear_object (&fetch->self);
  g_clear_pointer (&fetch->found, g_hash_table_unref);
  g_free (fetch);
}

static void
on_allergies_read (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  AllergyFetch *fetch = user_data;
  WzQueueModel *self = fetch->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_auto(Page) page = { 0 };

  node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  if (node == NULL)
    {
      GHashTableIter iter;
      gpointer key;

      /* Ask again when the rows are next shown. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_hash_table_iter_init (&iter, fetch->found);
          while (g_hash_table_iter_next (&iter, &key, NULL))
            g_hash_table_remove (self->allergy_read, key);
        }
      report_error (self, error, "allergies");
      allergy_fetch_free (fetch);
      return;
    }

  read_page (node, &self->today, &page);
  for (guint i = 0; i < page.others->len; i++)
    {
      JsonObject *allergy = page.others->pdata[i];
      const char *patient = reference_id (string_member (object_member (allergy, "patient"),
                                                         "reference"), "Patient");
      PatientAllergies *allergies;
      const char *name;

      if (patient == NULL || (allergies = g_hash_table_lookup (fetch->found, patient)) == NULL
          || !allergy_counts (allergy))
        continue;

      name = allergy_name (allergy);
      if (allergies->names->len > 0)
        /* Translators: separates allergy names in a list, e.g. “Penicillin, Peanuts” */
        g_string_append (allergies->names, g_dgettext (GETTEXT_PACKAGE, ", "));
      g_string_append (allergies->names, name != NULL ? name : "?");
      allergies->count++;
    }

  if (page.next != NULL)
    {
      wz_api_client_get_json_async (self->client, page.next, self->cancellable,
                                    on_allergies_read, fetch);
      return;
    }

  {
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init (&iter, fetch->found);
    while (g_hash_table_iter_next (&iter, &key, &value))
      {
        PatientAllergies *allergies = value;

        g_autoptr(GPtrArray) visits = row_index_find_all (self, &self->by_patient, key);

        for (guint i = 0; i < visits->len; i++)
          wz_queue_item_set_allergies (visits->pdata[i], allergies->count,
                                       allergies->names->len > 0 ? allergies->names->str : NULL);
      }
  }

  allergy_fetch_free (fetch);
}

static gboolean
flush_allergies (gpointer user_data)
{
  WzQueueModel *self = user_data;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  self->allergy_source = 0;
  if (self->cancellable == NULL)
    return G_SOURCE_REMOVE;

  g_hash_table_iter_init (&iter, self->allergy_queue);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_ptr_array_add (ids, g_strdup (key));
      g_hash_table_iter_remove (&iter);
    }

  for (guint start = 0; start < ids->len; start += BATCH_IDS)
    {
      g_autoptr(GString) path = g_string_new ("/fhir/AllergyIntolerance?_count=200&patient=");
      AllergyFetch *fetch = g_new0 (AllergyFetch, 1);

      fetch->self = g_object_ref (self);
      fetch->found = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) patient_allergies_free);

      for (guint i = start; i < ids->len && i < start + BATCH_IDS; i++)
        {
          if (i > start)
            g_string_append_c (path, ',');
          g_string_append (path, "Patient/");
          g_string_append_uri_escaped (path, ids->pdata[i], NULL, FALSE);
          PatientAllergies *allergies = g_new0 (PatientAllergies, 1);

          allergies->names = g_string_new (NULL);
          g_hash_table_insert (fetch->found, g_strdup (ids->pdata[i]), allergies);
        }

      wz_api_client_get_json_async (self->client, path->str, self->cancellable,
                                    on_allergies_read, fetch);
    }

  return G_SOURCE_REMOVE;
}

static void
schedule_allergies (WzQueueModel *self,
                    const char   *patient_id)
{
  if (patient_id == NULL || self->client == NULL || self->cancellable == NULL)
    return;
  if (!g_hash_table_add (self->allergy_read, g_strdup (patient_id)))
    return;

  g_hash_table_add (self->allergy_queue, g_strdup (patient_id));
  if (self->allergy_source == 0)
    self->allergy_source = g_timeout_add (ALLERGY_BATCH_DELAY_MS, flush_allergies, self);
}

/**
 * wz_queue_model_want_allergies:
 * @item: an item about to be shown
 *
 * Looks up the patient's allergies unless they are known or asked for already. Rows call this
 * when they are bound, so a worklist of any size reads allergies only for what is on screen.
 */
void
wz_queue_model_want_allergies (WzQueueModel *self,
                               WzQueueItem  *item)
{
  g_return_if_fail (WZ_IS_QUEUE_MODEL (self));
  g_return_if_fail (WZ_IS_QUEUE_ITEM (item));

  schedule_allergies (self, wz_queue_item_get_patient_id (item));
}

/* ---------------------------------------------------------------------------------------- */
/* Events */

typedef struct
{
  WzQueueModel *self;
  char         *reference;
} EventFetch;

static void
event_fetch_free (EventFetch *fetch)
{
  g_clear_object (&fetch->self);
  g_free (fetch->reference);
  g_free (fetch);
}

static void
on_event_resource_read (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  EventFetch *fetch = user_data;
  WzQueueModel *self = fetch->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *resource;
  const char *type;

  node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  if (node == NULL)
    {
      if (g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_NOT_FOUND)
          || g_error_matches (error, WZ_CLIENT_ERROR, WZ_CLIENT_ERROR_FORBIDDEN))
        {
          /* No longer ours to see: a visit handed to another doctor leaves this queue. */
          const char *id = reference_id (fetch->reference, "Encounter");
          WzQueueItem *item = id != NULL ? row_index_find (self, &self->by_encounter, id) : NULL;

          if (item != NULL)
            remove_item (self, item);
        }
      else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_hash_table_add (self->retry, g_strdup (fetch->reference));
          report_error (self, error, fetch->reference);
        }
      event_fetch_free (fetch);
      return;
    }

  resource = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  type = string_member (resource, "resourceType");

  if (g_strcmp0 (type, "Encounter") == 0)
    {
      g_autoptr(GPtrArray) encounters = g_ptr_array_new ();
      g_autoptr(GHashTable) none = g_hash_table_new (g_str_hash, g_str_equal);

      g_ptr_array_add (encounters, resource);
      apply_encounters (self, encounters, none, TRUE, NULL);
    }
  else if (g_strcmp0 (type, "Patient") == 0 && string_member (resource, "id") != NULL)
    {
      g_autoptr(GHashTable) patients = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                              (GDestroyNotify) wz_queue_patient_free);

      g_hash_table_insert (patients, (gpointer) string_member (resource, "id"),
                           wz_queue_patient_new (resource, &self->today));
      apply_patients (self, patients, TRUE);
    }
  else if (g_strcmp0 (type, "Task") == 0)
    update_awaiting (self, apply_task (self, resource));

  event_fetch_free (fetch);
}

static void
read_for_event (WzQueueModel *self,
                const char   *reference)
{
  EventFetch *fetch;
  g_autofree char *path = NULL;

  if (self->client == NULL || self->cancellable == NULL)
    return;

  fetch = g_new0 (EventFetch, 1);
  fetch->self = g_object_ref (self);
  fetch->reference = g_strdup (reference);
  path = g_strconcat ("/fhir/", reference, NULL);
  wz_api_client_get_json_async (self->client, path, self->cancellable,
                                on_event_resource_read, fetch);
}

static gboolean
patient_in_queue (WzQueueModel *self,
                  const char   *patient_id)
{
  return patient_id != NULL && row_index_find (self, &self->by_patient, patient_id) != NULL;
}

/**
 * wz_queue_model_handle_event:
 * @resource_type: the type of the created or updated resource
 * @id: its id
 * @version_id: (nullable): its new version
 * @patient: (nullable): "Patient/…" it is about
 * @encounter: (nullable): "Encounter/…" it belongs to
 *
 * Brings the queue up to date with one change pushed by the server. Only what the queue shows
 * is read again, with a normal (audited) request.
 */
void
wz_queue_model_handle_event (WzQueueModel *self,
                             const char   *resource_type,
                             const char   *id,
                             const char   *version_id,
                             const char   *patient,
                             const char   *encounter)
{
  g_autofree char *reference = NULL;

  g_return_if_fail (WZ_IS_QUEUE_MODEL (self));

  if (resource_type == NULL || id == NULL || self->practitioner == NULL)
    return;

  reference = g_strconcat (resource_type, "/", id, NULL);

  if (strcmp (resource_type, "Encounter") == 0)
    {
      WzQueueItem *item = row_index_find (self, &self->by_encounter, id);
      guint64 version = 0;

      /* An event for the version the row already shows is an echo of what was read. */
      if (item != NULL && version_id != NULL
          && g_ascii_string_to_unsigned (version_id, 10, 0, G_MAXUINT, &version, NULL)
          && version <= wz_queue_item_get_version (item))
        return;
      read_for_event (self, reference);
    }
  else if (strcmp (resource_type, "Patient") == 0)
    {
      if (patient_in_queue (self, id))
        read_for_event (self, reference);
    }
  else if (strcmp (resource_type, "AllergyIntolerance") == 0)
    {
      const char *patient_id = reference_id (patient, "Patient");

      if (patient_id != NULL && g_hash_table_remove (self->allergy_read, patient_id))
        schedule_allergies (self, patient_id);
    }
  else if (strcmp (resource_type, "Task") == 0)
    {
      /* Only Tasks about today's visits can change the queue. */
      const char *encounter_id = reference_id (encounter, "Encounter");

      if (encounter_id == NULL || row_index_find (self, &self->by_encounter, encounter_id) != NULL
          || g_hash_table_contains (self->open_approvals, id))
        read_for_event (self, reference);
    }
}

/**
 * wz_queue_model_catch_up:
 *
 * After the realtime connection comes back: reads what changed while it was down (and what
 * could not be read when its event came), so the queue is as if it had never dropped.
 */
void
wz_queue_model_catch_up (WzQueueModel *self)
{
  GHashTableIter iter;
  gpointer key;
  g_autoptr(GPtrArray) retry = g_ptr_array_new_with_free_func (g_free);

  g_return_if_fail (WZ_IS_QUEUE_MODEL (self));

  if (self->practitioner == NULL)
    return;

  if (self->loading > 0)
    {
      self->catch_up_pending = TRUE;
      return;
    }

  g_hash_table_iter_init (&iter, self->retry);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_ptr_array_add (retry, g_strdup (key));
      g_hash_table_iter_remove (&iter);
    }
  for (guint i = 0; i < retry->len; i++)
    read_for_event (self, retry->pdata[i]);

  /* Without a point in time to start from (nothing loaded yet), load everything. */
  if (!self->loaded || self->watermark_us == 0)
    start_load (self, TRUE, self->loaded);
  else
    start_load (self, FALSE, TRUE);
}

/* ---------------------------------------------------------------------------------------- */
/* Life cycle */

static void
set_day (WzQueueModel *self,
         GDateTime    *now)
{
  g_autoptr(GDateTime) midnight = NULL;
  g_autoptr(GDateTime) next = NULL;

  midnight = g_date_time_new (g_date_time_get_timezone (now), g_date_time_get_year (now),
                              g_date_time_get_month (now), g_date_time_get_day_of_month (now),
                              0, 0, 0);
  next = g_date_time_add_days (midnight, 1);
  self->day_start_us = g_date_time_to_unix (midnight) * G_USEC_PER_SEC;
  self->day_end_us = g_date_time_to_unix (next) * G_USEC_PER_SEC;
  g_date_clear (&self->today, 1);
  g_date_set_dmy (&self->today, (GDateDay) g_date_time_get_day_of_month (now),
                  (GDateMonth) g_date_time_get_month (now),
                  (GDateYear) g_date_time_get_year (now));
}

static void
clear_items (WzQueueModel *self)
{
  guint n = self->items->len;

  row_index_clear (&self->by_encounter);
  row_index_clear (&self->by_patient);
  g_hash_table_remove_all (self->waiting_patient);
  g_hash_table_remove_all (self->open_approvals);
  g_hash_table_remove_all (self->allergy_queue);
  g_hash_table_remove_all (self->allergy_read);
  g_hash_table_remove_all (self->retry);
  for (guint i = 0; i < n; i++)
    detach_row (self, g_ptr_array_index (self->items, i));
  g_ptr_array_set_size (self->rows, 0);
  g_array_set_size (self->free_rows, 0);
  g_clear_pointer (&self->keys, wz_queue_key_store_free);
  self->keys = wz_queue_key_store_new ();
  g_ptr_array_set_size (self->items, 0);
  memset (self->counts, 0, sizeof self->counts);
  self->watermark_us = 0;

  if (n > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, n, 0);
  notify_counts (self);
}

void
wz_queue_model_set_context (WzQueueModel *self,
                            const char   *practitioner,
                            GDateTime    *day)
{
  g_return_if_fail (WZ_IS_QUEUE_MODEL (self));
  g_return_if_fail (day != NULL);

  g_free (self->practitioner);
  self->practitioner = g_strdup (practitioner);
  set_day (self, day);
}

/**
 * wz_queue_model_start:
 * @session: the signed-in doctor
 *
 * Loads the doctor's queue for today. Everything the model asks the server for from now on is
 * cancelled by wz_queue_model_stop(), when the session ends.
 */
void
wz_queue_model_start (WzQueueModel *self,
                      WzSession    *session)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  g_return_if_fail (WZ_IS_QUEUE_MODEL (self));
  g_return_if_fail (WZ_IS_SESSION (session));

  wz_queue_model_stop (self);

  self->cancellable = g_cancellable_new ();
  wz_queue_model_set_context (self, wz_session_get_practitioner (session), now);
  start_load (self, TRUE, FALSE);
}

void
wz_queue_model_stop (WzQueueModel *self)
{
  g_return_if_fail (WZ_IS_QUEUE_MODEL (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->allergy_source, g_source_remove);
  stop_page_thread (self);
  g_clear_pointer (&self->practitioner, g_free);
  self->catch_up_pending = FALSE;
  self->loading = 0;
  clear_items (self);

  if (self->loaded)
    {
      self->loaded = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADED]);
    }
}

/**
 * wz_queue_model_reload:
 *
 * Reads the whole queue again and merges it in place: rows still there keep their widgets and
 * the selection, the gone are removed, the new appended. A new day starts a new queue.
 */
void
wz_queue_model_reload (WzQueueModel *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  g_return_if_fail (WZ_IS_QUEUE_MODEL (self));

  if (self->practitioner == NULL)
    return;

  set_day (self, now);
  g_hash_table_remove_all (self->allergy_read);
  start_load (self, TRUE, self->loaded);
}

gboolean
wz_queue_model_get_loading (WzQueueModel *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_MODEL (self), FALSE);

  return self->loading > 0;
}

gboolean
wz_queue_model_get_loaded (WzQueueModel *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_MODEL (self), FALSE);

  return self->loaded;
}

static void
wz_queue_model_dispose (GObject *object)
{
  WzQueueModel *self = WZ_QUEUE_MODEL (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->allergy_source, g_source_remove);
  stop_page_thread (self);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (wz_queue_model_parent_class)->dispose (object);
}

static void
wz_queue_model_finalize (GObject *object)
{
  WzQueueModel *self = WZ_QUEUE_MODEL (object);

  for (guint i = 0; i < self->items->len; i++)
    detach_row (self, g_ptr_array_index (self->items, i));
  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_pointer (&self->free_rows, g_array_unref);
  g_clear_pointer (&self->keys, wz_queue_key_store_free);
  row_index_clear (&self->by_encounter);
  row_index_clear (&self->by_patient);
  g_clear_pointer (&self->waiting_patient, g_hash_table_unref);
  g_clear_pointer (&self->open_approvals, g_hash_table_unref);
  g_clear_pointer (&self->retry, g_hash_table_unref);
  g_clear_pointer (&self->allergy_queue, g_hash_table_unref);
  g_clear_pointer (&self->allergy_read, g_hash_table_unref);
  g_clear_pointer (&self->practitioner, g_free);

  G_OBJECT_CLASS (wz_queue_model_parent_class)->finalize (object);
}

static void
wz_queue_model_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  WzQueueModel *self = WZ_QUEUE_MODEL (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading > 0);
      break;
    case PROP_LOADED:
      g_value_set_boolean (value, self->loaded);
      break;
    case PROP_N_WAITING:
      g_value_set_uint (value, self->counts[WZ_QUEUE_STATUS_WAITING]);
      break;
    case PROP_N_IN_CONSULTATION:
      g_value_set_uint (value, self->counts[WZ_QUEUE_STATUS_IN_CONSULTATION]);
      break;
    case PROP_N_AWAITING_PHARMACIST:
      g_value_set_uint (value, self->counts[WZ_QUEUE_STATUS_AWAITING_PHARMACIST]);
      break;
    case PROP_N_FINISHED:
      g_value_set_uint (value, self->counts[WZ_QUEUE_STATUS_FINISHED]);
      break;
    case PROP_N_ALL:
      g_value_set_uint (value, self->items->len);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_queue_model_class_init (WzQueueModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = wz_queue_model_dispose;
  object_class->finalize = wz_queue_model_finalize;
  object_class->get_property = wz_queue_model_get_property;

  properties[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE, flags);
  properties[PROP_LOADED] = g_param_spec_boolean ("loaded", NULL, NULL, FALSE, flags);
  properties[PROP_N_WAITING] = g_param_spec_uint ("n-waiting", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_N_IN_CONSULTATION] =
    g_param_spec_uint ("n-in-consultation", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_N_AWAITING_PHARMACIST] =
    g_param_spec_uint ("n-awaiting-pharmacist", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_N_FINISHED] = g_param_spec_uint ("n-finished", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_N_ALL] = g_param_spec_uint ("n-all", NULL, NULL, 0, G_MAXUINT, 0, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * WzQueueModel::load-finished:
   * @error: (nullable): why the queue could not be read
   *
   * A full load or a catch-up is complete.
   */
  signals[LOAD_FINISHED] =
    g_signal_new ("load-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);

  /**
   * WzQueueModel::item-added:
   * @item: the visit
   *
   * A patient joined the queue after it was loaded: pushed live, or found by a catch-up.
   */
  signals[ITEM_ADDED] =
    g_signal_new ("item-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, WZ_TYPE_QUEUE_ITEM);

  /**
   * WzQueueModel::error:
   * @error: what failed while keeping the queue current
   */
  signals[ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
wz_queue_model_init (WzQueueModel *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->rows = g_ptr_array_new ();
  self->free_rows = g_array_new (FALSE, FALSE, sizeof (guint));
  self->keys = wz_queue_key_store_new ();
  row_index_init (&self->by_encounter, wz_queue_item_get_encounter_id);
  row_index_init (&self->by_patient, wz_queue_item_get_patient_id);
  self->waiting_patient = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->open_approvals = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->retry = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->allergy_queue = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->allergy_read = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

WzQueueModel *
wz_queue_model_new (WzApiClient *client)
{
  WzQueueModel *self = g_object_new (WZ_TYPE_QUEUE_MODEL, NULL);

  self->client = client != NULL ? g_object_ref (client) : NULL;

  return self;
}
