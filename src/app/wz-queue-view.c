/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-queue-view"

#include "config.h"

#include "wz-queue-view.h"

#include <string.h>

/* The worklist as the doctor sees it: the model's visits sorted (arrival or urgency) and
 * filtered (status, search as you type), as one list model. It does what a GtkSortListModel
 * under a GtkFilterListModel did, for a fraction of the work per keystroke at 100,000 rows:
 *
 * - rows are the model's row numbers (stable while a visit is in the model), kept in plain
 *   arrays: every row in sort order, and the rows shown;
 * - a keystroke that widens the search or starts one reads the model's key store in one
 *   sequential pass, then keeps the rows of the sorted order that matched; one that narrows
 *   it looks again only at the rows shown; one that returns to a search typed before (deleting
 *   a character) takes that search's rows from a cache, which any change of the worklist or
 *   the sort order empties;
 * - each change is announced with one items-changed covering only the positions that differ,
 *   and a live change of one visit moves one row. */

struct _WzQueueView
{
  GObject        parent_instance;

  WzQueueModel  *model;
  WzQueueFilter *filter;
  GtkSorter     *sorter;

  GArray        *positions;  /* guint: the row at each of the model's positions */
  GArray        *order;      /* guint: every row, in sort order */
  GArray        *shown;      /* guint: the rows the filter lets through, in sort order */
  GByteArray    *status;     /* WzQueueStatus of each row */
  GByteArray    *hit;        /* 1 for each row in shown */
  GByteArray    *scratch;    /* all 0 between uses */

  GPtrArray     *cache;      /* CacheEntry, oldest first */
  gsize          cached;     /* rows in the cache's entries */
};

static void wz_queue_view_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (WzQueueView, wz_queue_view, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      wz_queue_view_list_model_init))

/* A search typed in this sequence and the rows it showed. */
typedef struct
{
  char          *text;
  WzQueueStatus  status;
  GArray        *rows;
} CacheEntry;

/* Enough for a long name typed and deleted again. */
#define CACHE_ENTRIES 16
/* A narrowing keystroke looks again at the rows shown, one patient after the other (two cache
 * misses each); reading the whole key store in one pass costs about as much as looking at an
 * eighth to a sixteenth of it that way (bench/queue-filter: a pinyin letter or an ID fragment). */
#define NARROW_FRACTION 8

#define ROWS(array) ((guint *) (array)->data)

/* ---------------------------------------------------------------------------------------- */
/* GListModel */

static GType
wz_queue_view_get_item_type (GListModel *model)
{
  return WZ_TYPE_QUEUE_ITEM;
}

static guint
wz_queue_view_get_n_items (GListModel *model)
{
  return WZ_QUEUE_VIEW (model)->shown->len;
}

static gpointer
wz_queue_view_get_item (GListModel *model,
                        guint       position)
{
  WzQueueView *self = WZ_QUEUE_VIEW (model);
  WzQueueItem *item;

  if (position >= self->shown->len)
    return NULL;

  item = wz_queue_model_get_row_item (self->model, ROWS (self->shown)[position]);

  return item != NULL ? g_object_ref (item) : NULL;
}

static void
wz_queue_view_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = wz_queue_view_get_item_type;
  iface->get_n_items = wz_queue_view_get_n_items;
  iface->get_item = wz_queue_view_get_item;
}

/* ---------------------------------------------------------------------------------------- */
/* Rows */

static inline WzQueueItem *
row_item (WzQueueView *self,
          guint        row)
{
  return wz_queue_model_get_row_item (self->model, row);
}

static int
compare_rows (WzQueueView *self,
              guint        a,
              guint        b)
{
  WzQueueItem *item_a = row_item (self, a);
  WzQueueItem *item_b = row_item (self, b);

  if (self->sorter != NULL)
    return gtk_sorter_compare (self->sorter, item_a, item_b);

  return wz_queue_item_compare_arrival (item_a, item_b, NULL);
}

static int
compare_rows_func (gconstpointer a,
                   gconstpointer b,
                   gpointer      user_data)
{
  return compare_rows (user_data, *(const guint *) a, *(const guint *) b);
}

/* The per-row arrays cover every row the model has handed out. */
static void
ensure_rows (WzQueueView *self)
{
  guint n = wz_queue_model_get_n_rows (self->model);
  guint old = self->status->len;

  if (n <= old)
    return;

  g_byte_array_set_size (self->status, n);
  g_byte_array_set_size (self->hit, n);
  g_byte_array_set_size (self->scratch, n);
  memset (self->status->data + old, WZ_QUEUE_STATUS_NONE, n - old);
  memset (self->hit->data + old, 0, n - old);
  memset (self->scratch->data + old, 0, n - old);
}

static gboolean
row_matches (WzQueueView *self,
             guint        row)
{
  const WzQueueQuery *query = wz_queue_filter_get_query (self->filter);
  WzQueueStatus status = wz_queue_filter_get_status (self->filter);

  if (status != WZ_QUEUE_STATUS_ALL && self->status->data[row] != status)
    return FALSE;

  return query == NULL || wz_queue_query_matches (query, wz_queue_item_get_key (row_item (self, row)));
}

/* The first place in the sorted ARRAY whose row sorts after ROW, from FROM on. */
static guint
upper_bound (WzQueueView *self,
             GArray      *array,
             guint        from,
             guint        row)
{
  guint low = from, high = array->len;

  while (low < high)
    {
      guint middle = low + (high - low) / 2;

      if (compare_rows (self, ROWS (array)[middle], row) <= 0)
        low = middle + 1;
      else
        high = middle;
    }

  return low;
}

/* Puts N sorted ROWS into the sorted ARRAY: a binary search each, then one pass that moves
 * the rows between them (a page of 200 visits into 100,000 costs 3,400 comparisons). */
static void
insert_sorted (WzQueueView *self,
               GArray      *array,
               const guint *rows,
               guint        n)
{
  g_autofree guint *places = NULL;
  guint old_len = array->len;
  guint source_end, target_end;
  guint *data;

  if (n == 0)
    return;

  places = g_new (guint, n);
  for (guint i = 0, from = 0; i < n; i++)
    from = places[i] = upper_bound (self, array, from, rows[i]);

  g_array_set_size (array, old_len + n);
  data = ROWS (array);
  source_end = old_len;
  target_end = old_len + n;
  for (guint i = n; i-- > 0;)
    {
      guint segment = source_end - places[i];

      memmove (data + target_end - segment, data + places[i], segment * sizeof (guint));
      target_end -= segment;
      source_end = places[i];
      data[--target_end] = rows[i];
    }
}

/* Drops the rows marked in scratch from ARRAY, keeping the order of the rest. */
static void
remove_marked (WzQueueView *self,
               GArray      *array)
{
  guint *data = ROWS (array);
  guint kept = 0;

  for (guint i = 0; i < array->len; i++)
    if (self->scratch->data[data[i]] == 0)
      data[kept++] = data[i];

  g_array_set_size (array, kept);
}

/* Where ROW, shown, is in SHOWN. */
static guint
shown_position (WzQueueView *self,
                GArray      *shown,
                guint        row)
{
  guint place = upper_bound (self, shown, 0, row);

  /* The row itself is the last one that does not sort after it. */
  g_assert (place > 0 && ROWS (shown)[place - 1] == row);

  return place - 1;
}

/* ---------------------------------------------------------------------------------------- */
/* The rows shown */

/**
 * commit_shown:
 * @shown: (transfer full): the rows to show from now on
 * @changed: rows whose visit changed: announced again where they are still shown
 *
 * Announces the difference to the rows shown until now as one items-changed: the positions
 * from the first that differs to the last that differs, so a list view keeps every row
 * outside them (and a selection there stays put).
 */
static void
commit_shown (WzQueueView *self,
              GArray      *shown,
              const guint *changed,
              guint        n_changed)
{
  g_autoptr(GArray) old = self->shown;
  const guint *old_rows = ROWS (old);
  const guint *new_rows = ROWS (shown);
  guint old_n = old->len, new_n = shown->len;
  guint prefix = 0, suffix = 0;
  guint start, end;
  gboolean differ;

  while (prefix < old_n && prefix < new_n && old_rows[prefix] == new_rows[prefix])
    prefix++;
  while (suffix < old_n - prefix && suffix < new_n - prefix
         && old_rows[old_n - 1 - suffix] == new_rows[new_n - 1 - suffix])
    suffix++;

  /* Positions [start, end) of the new list replace [start, end + old_n - new_n) of the old. */
  start = prefix;
  end = new_n - suffix;
  differ = end > start || old_n - suffix > prefix;

  for (guint i = 0; i < old_n; i++)
    self->hit->data[old_rows[i]] = 0;
  for (guint i = 0; i < new_n; i++)
    self->hit->data[new_rows[i]] = 1;

  /* A visit that changed but kept its place is announced too, so its row redraws. */
  for (guint i = 0; i < n_changed; i++)
    if (self->hit->data[changed[i]])
      {
        guint position = shown_position (self, shown, changed[i]);

        if (!differ)
          {
            start = position;
            end = position + 1;
            differ = TRUE;
          }
        else
          {
            start = MIN (start, position);
            end = MAX (end, position + 1);
          }
      }

  self->shown = shown;

  if (differ)
    g_list_model_items_changed (G_LIST_MODEL (self), start, end - start + old_n - new_n, end - start);
}

static void
cache_entry_free (gpointer data)
{
  CacheEntry *entry = data;

  g_free (entry->text);
  g_array_unref (entry->rows);
  g_free (entry);
}

static void
cache_clear (WzQueueView *self)
{
  g_ptr_array_set_size (self->cache, 0);
  self->cached = 0;
}

static GArray *
cache_lookup (WzQueueView        *self,
              const WzQueueQuery *query,
              WzQueueStatus       status)
{
  const char *text = wz_queue_query_get_text (query);

  for (guint i = 0; i < self->cache->len; i++)
    {
      CacheEntry *entry = g_ptr_array_index (self->cache, i);

      if (entry->status == status && strcmp (entry->text, text) == 0)
        return g_array_copy (entry->rows);
    }

  return NULL;
}

static void
cache_store (WzQueueView        *self,
             const WzQueueQuery *query,
             WzQueueStatus       status,
             GArray             *rows)
{
  CacheEntry *entry;

  /* At most twice the worklist in all. */
  while (self->cache->len > 0
         && (self->cache->len >= CACHE_ENTRIES || self->cached + rows->len > 2 * (gsize) self->order->len))
    {
      entry = g_ptr_array_index (self->cache, 0);
      self->cached -= entry->rows->len;
      g_ptr_array_remove_index (self->cache, 0);
    }

  entry = g_new0 (CacheEntry, 1);
  entry->text = g_strdup (wz_queue_query_get_text (query));
  entry->status = status;
  entry->rows = g_array_copy (rows);
  g_ptr_array_add (self->cache, entry);
  self->cached += rows->len;
}

/* The rows of ORDER that the filter lets through now, reading every key once in the order
 * the key store holds them. */
static GArray *
filter_all (WzQueueView *self)
{
  const WzQueueQuery *query = wz_queue_filter_get_query (self->filter);
  WzQueueStatus status = wz_queue_filter_get_status (self->filter);
  guint n_rows = self->scratch->len;
  const guint *order = ROWS (self->order);
  const guint8 *row_status = self->status->data;
  guint8 *matches = self->scratch->data;
  GArray *shown = g_array_sized_new (FALSE, FALSE, sizeof (guint), 0);

  if (query == NULL)
    {
      for (guint i = 0; i < self->order->len; i++)
        if (status == WZ_QUEUE_STATUS_ALL || row_status[order[i]] == status)
          g_array_append_val (shown, order[i]);
      return shown;
    }

  wz_queue_model_match_rows (self->model, query, matches, n_rows);
  for (guint i = 0; i < self->order->len; i++)
    {
      guint row = order[i];

      if (matches[row] && (status == WZ_QUEUE_STATUS_ALL || row_status[row] == status))
        g_array_append_val (shown, row);
    }
  memset (matches, 0, n_rows);

  return shown;
}

/* The rows shown now that the filter still lets through. */
static GArray *
filter_shown (WzQueueView *self)
{
  GArray *shown = g_array_sized_new (FALSE, FALSE, sizeof (guint), 0);

  for (guint i = 0; i < self->shown->len; i++)
    {
      guint row = ROWS (self->shown)[i];

      if (row_matches (self, row))
        g_array_append_val (shown, row);
    }

  return shown;
}

static void
refilter (WzQueueView     *self,
          GtkFilterChange  change)
{
  const WzQueueQuery *query = wz_queue_filter_get_query (self->filter);
  WzQueueStatus status = wz_queue_filter_get_status (self->filter);
  GArray *shown = NULL;
  gboolean cached = FALSE;

  /* A new search starts from an empty box: what the last one found is no help. */
  if (query == NULL)
    cache_clear (self);

  if (query == NULL && status == WZ_QUEUE_STATUS_ALL)
    shown = g_array_copy (self->order);
  else if (query != NULL && (shown = cache_lookup (self, query, status)) != NULL)
    cached = TRUE;
  else if (change == GTK_FILTER_CHANGE_MORE_STRICT
           && self->shown->len < self->order->len / NARROW_FRACTION)
    shown = filter_shown (self);
  else
    shown = filter_all (self);

  if (query != NULL && !cached)
    cache_store (self, query, status, shown);

  commit_shown (self, shown, NULL, 0);
}

static void
on_filter_changed (GtkFilter       *filter,
                   GtkFilterChange  change,
                   WzQueueView     *self)
{
  refilter (self, change);
}

static void
on_sorter_changed (GtkSorter       *sorter,
                   GtkSorterChange  change,
                   WzQueueView     *self)
{
  GArray *shown;

  cache_clear (self);
  g_array_sort_with_data (self->order, compare_rows_func, self);

  shown = g_array_sized_new (FALSE, FALSE, sizeof (guint), self->shown->len);
  for (guint i = 0; i < self->order->len; i++)
    if (self->hit->data[ROWS (self->order)[i]])
      g_array_append_val (shown, ROWS (self->order)[i]);

  commit_shown (self, shown, NULL, 0);
}

/* Visits joined, left or changed (the model announces a change in place as one removed and
 * one added at the same position). */
static void
on_model_items_changed (GListModel  *model,
                        guint        position,
                        guint        removed,
                        guint        added,
                        WzQueueView *self)
{
  g_autoptr(GArray) new_rows = g_array_sized_new (FALSE, FALSE, sizeof (guint), added);
  g_autoptr(GArray) new_shown_rows = g_array_sized_new (FALSE, FALSE, sizeof (guint), added);
  GArray *shown;

  ensure_rows (self);
  cache_clear (self);

  /* Rows that left or changed leave the sorted order and the rows shown. */
  shown = g_array_copy (self->shown);
  if (removed > 0)
    {
      for (guint i = position; i < position + removed; i++)
        self->scratch->data[ROWS (self->positions)[i]] = 1;
      remove_marked (self, self->order);
      remove_marked (self, shown);
      for (guint i = position; i < position + removed; i++)
        self->scratch->data[ROWS (self->positions)[i]] = 0;
      g_array_remove_range (self->positions, position, removed);
    }

  /* Rows that joined or changed come back where they now sort. */
  for (guint i = position; i < position + added; i++)
    {
      WzQueueItem *item = wz_queue_model_peek_item (self->model, i);
      guint row = wz_queue_item_get_row (item);

      self->status->data[row] = (guint8) wz_queue_item_get_status (item);
      g_array_append_val (new_rows, row);
    }
  if (added > 0)
    g_array_insert_vals (self->positions, position, new_rows->data, added);

  g_array_sort_with_data (new_rows, compare_rows_func, self);
  for (guint i = 0; i < new_rows->len; i++)
    if (row_matches (self, ROWS (new_rows)[i]))
      g_array_append_val (new_shown_rows, ROWS (new_rows)[i]);

  insert_sorted (self, self->order, ROWS (new_rows), new_rows->len);
  insert_sorted (self, shown, ROWS (new_shown_rows), new_shown_rows->len);

  commit_shown (self, shown, ROWS (new_shown_rows), new_shown_rows->len);
}

/* ---------------------------------------------------------------------------------------- */
/* GObject */

static void
wz_queue_view_dispose (GObject *object)
{
  WzQueueView *self = WZ_QUEUE_VIEW (object);

  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  if (self->filter != NULL)
    g_signal_handlers_disconnect_by_data (self->filter, self);
  if (self->sorter != NULL)
    g_signal_handlers_disconnect_by_data (self->sorter, self);
  g_clear_object (&self->model);
  g_clear_object (&self->filter);
  g_clear_object (&self->sorter);

  G_OBJECT_CLASS (wz_queue_view_parent_class)->dispose (object);
}

static void
wz_queue_view_finalize (GObject *object)
{
  WzQueueView *self = WZ_QUEUE_VIEW (object);

  g_clear_pointer (&self->positions, g_array_unref);
  g_clear_pointer (&self->order, g_array_unref);
  g_clear_pointer (&self->shown, g_array_unref);
  g_clear_pointer (&self->status, g_byte_array_unref);
  g_clear_pointer (&self->hit, g_byte_array_unref);
  g_clear_pointer (&self->scratch, g_byte_array_unref);
  g_clear_pointer (&self->cache, g_ptr_array_unref);

  G_OBJECT_CLASS (wz_queue_view_parent_class)->finalize (object);
}

static void
wz_queue_view_class_init (WzQueueViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_queue_view_dispose;
  object_class->finalize = wz_queue_view_finalize;
}

static void
wz_queue_view_init (WzQueueView *self)
{
  self->positions = g_array_new (FALSE, FALSE, sizeof (guint));
  self->order = g_array_new (FALSE, FALSE, sizeof (guint));
  self->shown = g_array_new (FALSE, FALSE, sizeof (guint));
  self->status = g_byte_array_new ();
  self->hit = g_byte_array_new ();
  self->scratch = g_byte_array_new ();
  self->cache = g_ptr_array_new_with_free_func (cache_entry_free);
}

/**
 * wz_queue_view_new:
 * @model: today's visits
 * @filter: (nullable): status and search; a new one when %NULL
 * @sorter: (nullable): the order, e.g. a #GtkCustomSorter with wz_queue_item_compare_urgency();
 *   by arrival when %NULL
 *
 * Returns: (transfer full): the visits @filter lets through, sorted by @sorter, kept current
 *   as the model, the filter and the sorter change
 */
WzQueueView *
wz_queue_view_new (WzQueueModel  *model,
                   WzQueueFilter *filter,
                   GtkSorter     *sorter)
{
  WzQueueView *self;
  guint n;

  g_return_val_if_fail (WZ_IS_QUEUE_MODEL (model), NULL);
  g_return_val_if_fail (filter == NULL || WZ_IS_QUEUE_FILTER (filter), NULL);
  g_return_val_if_fail (sorter == NULL || GTK_IS_SORTER (sorter), NULL);

  self = g_object_new (WZ_TYPE_QUEUE_VIEW, NULL);
  self->model = g_object_ref (model);
  self->filter = filter != NULL ? g_object_ref (filter) : wz_queue_filter_new ();
  self->sorter = sorter != NULL ? g_object_ref (sorter) : NULL;

  g_signal_connect (self->model, "items-changed", G_CALLBACK (on_model_items_changed), self);
  g_signal_connect (self->filter, "changed", G_CALLBACK (on_filter_changed), self);
  if (self->sorter != NULL)
    g_signal_connect (self->sorter, "changed", G_CALLBACK (on_sorter_changed), self);

  n = g_list_model_get_n_items (G_LIST_MODEL (model));
  if (n > 0)
    on_model_items_changed (G_LIST_MODEL (model), 0, 0, n, self);

  return self;
}

WzQueueModel *
wz_queue_view_get_model (WzQueueView *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_VIEW (self), NULL);

  return self->model;
}

WzQueueFilter *
wz_queue_view_get_filter (WzQueueView *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_VIEW (self), NULL);

  return self->filter;
}

GtkSorter *
wz_queue_view_get_sorter (WzQueueView *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_VIEW (self), NULL);

  return self->sorter;
}

/**
 * wz_queue_view_find:
 * @item: a visit
 *
 * Returns: where @item is shown, or %GTK_INVALID_LIST_POSITION when it is not
 */
guint
wz_queue_view_find (WzQueueView *self,
                    WzQueueItem *item)
{
  guint row;

  g_return_val_if_fail (WZ_IS_QUEUE_VIEW (self), GTK_INVALID_LIST_POSITION);
  g_return_val_if_fail (WZ_IS_QUEUE_ITEM (item), GTK_INVALID_LIST_POSITION);

  row = wz_queue_item_get_row (item);
  if (row >= self->hit->len || !self->hit->data[row] || row_item (self, row) != item)
    return GTK_INVALID_LIST_POSITION;

  return shown_position (self, self->shown, row);
}
