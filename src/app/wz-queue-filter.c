/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-queue-filter"

#include "config.h"

#include "wz-queue-filter.h"

#include <string.h>

/* Search as you type over the whole worklist. Everything expensive (Unicode folding, pinyin) is
 * done once when a patient's key is built; a keystroke folds only the query and then runs a few
 * byte comparisons per row, so 100,000 rows filter within one frame. */

/* Segments of a key, each NUL-terminated, in this order. */
enum {
  SEGMENT_INITIALS,
  SEGMENT_PINYIN,
  SEGMENT_IDS,
  SEGMENT_PHONES,
  N_OFFSETS
};

/* Several identifiers or phones share a segment, joined by a byte no query can contain. */
#define JOIN "\x1f"

/* Queries shorter than this do not look inside ID and phone numbers: one or two digits would
 * match nearly everyone. */
#define MIN_NUMBER_QUERY 3

struct _WzQueueKey
{
  guint16 size;
  guint16 offsets[N_OFFSETS];
  guint8  name_has_ascii;  /* a query of plain letters or digits can only be in such a name */
  char    text[];
};

struct _WzQueueQuery
{
  char    *folded;       /* as typed, trimmed, normalised and case-folded */
  char    *compact;      /* folded without spaces and apostrophes, when it is plain a–z */
  char    *digits;       /* the digits, when the query looks like a phone number */
  gsize    compact_len;
  gboolean numbers;      /* has a digit and is long enough to search inside ID numbers */
  gboolean ascii;        /* only ASCII: cannot be inside a name written in Han characters */
};

struct _WzQueueFilter
{
  GtkFilter      parent_instance;

  char          *search;
  WzQueueQuery  *query;
  WzQueueStatus  status;
};

G_DEFINE_FINAL_TYPE (WzQueueFilter, wz_queue_filter, GTK_TYPE_FILTER)

enum {
  PROP_0,
  PROP_SEARCH,
  PROP_STATUS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---------------------------------------------------------------------------------------- */
/* Keys */

static char *
fold (const char *text)
{
  g_autofree char *normalized = NULL;

  if (text == NULL)
    return g_strdup ("");

  /* Full-width digits and letters (common in Chinese input) compare as their ASCII forms. */
  normalized = g_utf8_normalize (text, -1, G_NORMALIZE_ALL_COMPOSE);
  if (normalized == NULL)
    return g_strdup ("");

  return g_utf8_casefold (normalized, -1);
}

static void
append_segment (GString *text,
                char    *folded)
{
  /* A stray separator byte in the data must not split a value. */
  for (char *p = folded; *p != '\0'; p++)
    if (*p == JOIN[0])
      *p = ' ';
  g_string_append (text, folded);
}

/**
 * wz_queue_key_new:
 * @name: the name as shown (张伟, Anna Müller)
 * @pinyin_initials: (nullable): initials of the name's pinyin (zw)
 * @pinyin_full: (nullable): the pinyin of the name, spaces allowed (zhang wei)
 * @identifiers: (nullable): ID card and record numbers
 * @phones: (nullable): phone numbers in any format
 *
 * Returns: (transfer full): the key, to free with wz_queue_key_free()
 */
WzQueueKey *
wz_queue_key_new (const char        *name,
                  const char        *pinyin_initials,
                  const char        *pinyin_full,
                  const char *const *identifiers,
                  const char *const *phones)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *folded_name = fold (name);
  g_autofree char *folded_initials = fold (pinyin_initials);
  g_autofree char *folded_pinyin = fold (pinyin_full);
  guint16 offsets[N_OFFSETS];
  WzQueueKey *key;

  append_segment (text, folded_name);
  g_string_append_c (text, '\0');

  offsets[SEGMENT_INITIALS] = (guint16) text->len;
  for (const char *p = folded_initials; *p != '\0'; p++)
    if (g_ascii_isalpha (*p))
      g_string_append_c (text, *p);
  g_string_append_c (text, '\0');

  /* “zhang wei”, “zhāng”: compared without spaces, so “zhangw” finds 张伟. */
  offsets[SEGMENT_PINYIN] = (guint16) text->len;
  for (const char *p = folded_pinyin; *p != '\0'; p++)
    if (g_ascii_isalpha (*p))
      g_string_append_c (text, *p);
  g_string_append_c (text, '\0');

  offsets[SEGMENT_IDS] = (guint16) text->len;
  for (guint i = 0; identifiers != NULL && identifiers[i] != NULL; i++)
    {
      g_autofree char *folded = fold (identifiers[i]);

      if (*folded == '\0')
        continue;
      if (text->len > offsets[SEGMENT_IDS])
        g_string_append (text, JOIN);
      append_segment (text, folded);
    }
  g_string_append_c (text, '\0');

  offsets[SEGMENT_PHONES] = (guint16) text->len;
  for (guint i = 0; phones != NULL && phones[i] != NULL; i++)
    {
      gboolean any = FALSE;

      for (const char *p = phones[i]; *p != '\0'; p++)
        if (g_ascii_isdigit (*p))
          {
            if (!any && text->len > offsets[SEGMENT_PHONES])
              g_string_append (text, JOIN);
            g_string_append_c (text, *p);
            any = TRUE;
          }
    }
  g_string_append_c (text, '\0');

  /* Offsets are 16 bits: a name or number list of 64 KiB is not a patient, and such a record
   * is only found by an empty search. */
  if (text->len > G_MAXUINT16)
    return wz_queue_key_new (NULL, NULL, NULL, NULL, NULL);

  key = g_malloc (sizeof (WzQueueKey) + text->len);
  key->size = (guint16) text->len;
  memcpy (key->offsets, offsets, sizeof offsets);
  key->name_has_ascii = FALSE;
  for (const char *p = folded_name; *p != '\0' && !key->name_has_ascii; p++)
    key->name_has_ascii = (guchar) *p < 0x80;
  memcpy (key->text, text->str, text->len);

  return key;
}

WzQueueKey *
wz_queue_key_copy (const WzQueueKey *key)
{
  if (key == NULL)
    return NULL;

  return g_memdup2 (key, sizeof (WzQueueKey) + key->size);
}

void
wz_queue_key_free (WzQueueKey *key)
{
  g_free (key);
}

gboolean
wz_queue_key_equal (const WzQueueKey *a,
                    const WzQueueKey *b)
{
  if (a == NULL || b == NULL)
    return a == b;

  return a->size == b->size && memcmp (a, b, G_STRUCT_OFFSET (WzQueueKey, text) + a->size) == 0;
}

/* The folded name: what the key was built from, for debugging and tests. */
const char *
wz_queue_key_get_text (const WzQueueKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  return key->text;
}

/* ---------------------------------------------------------------------------------------- */
/* Queries */

WzQueueQuery *
wz_queue_query_new (const char *text)
{
  WzQueueQuery *query = g_new0 (WzQueueQuery, 1);
  g_autofree char *trimmed = g_strstrip (g_strdup (text != NULL ? text : ""));
  g_autoptr(GString) compact = g_string_new (NULL);
  g_autoptr(GString) digits = g_string_new (NULL);
  gboolean latin = TRUE;
  gboolean phone_like = TRUE;

  query->folded = fold (trimmed);
  /* The separator and control characters cannot be typed into a search entry; make sure. */
  for (char *p = query->folded; *p != '\0'; p++)
    if ((guchar) *p < 0x20)
      *p = ' ';

  for (const char *p = query->folded; *p != '\0'; p++)
    {
      if (g_ascii_isalpha (*p))
        g_string_append_c (compact, *p);
      else if (*p != ' ' && *p != '\'')
        latin = FALSE;

      if (g_ascii_isdigit (*p))
        g_string_append_c (digits, *p);
      else if (strchr (" +-()", *p) == NULL)
        phone_like = FALSE;
    }

  if (latin && compact->len > 0)
    {
      query->compact_len = compact->len;
      query->compact = g_string_free (g_steal_pointer (&compact), FALSE);
    }
  if (phone_like && digits->len >= MIN_NUMBER_QUERY)
    query->digits = g_string_free (g_steal_pointer (&digits), FALSE);
  query->numbers = strlen (query->folded) >= MIN_NUMBER_QUERY
                   && strpbrk (query->folded, "0123456789") != NULL;
  query->ascii = TRUE;
  for (const char *p = query->folded; *p != '\0'; p++)
    if ((guchar) *p >= 0x80)
      query->ascii = FALSE;

  return query;
}

void
wz_queue_query_free (WzQueueQuery *query)
{
  if (query == NULL)
    return;

  g_free (query->folded);
  g_free (query->compact);
  g_free (query->digits);
  g_free (query);
}

gboolean
wz_queue_query_is_empty (const WzQueueQuery *query)
{
  return query == NULL || query->folded[0] == '\0';
}

/* Which kinds of comparison a query takes part in; adding a kind can widen the results. */
static guint
query_modes (const WzQueueQuery *query)
{
  return (query->compact != NULL ? 1 : 0) | (query->digits != NULL ? 2 : 0)
         | (query->numbers ? 4 : 0);
}

gboolean
wz_queue_query_matches (const WzQueueQuery *query,
                        const WzQueueKey   *key)
{
  const char *text;

  if (wz_queue_query_is_empty (query))
    return TRUE;
  if (key == NULL)
    return FALSE;

  text = key->text;

  /* The name: anywhere in it (“伟” finds 张伟, “müller” finds Anna Müller). */
  if ((key->name_has_ascii || !query->ascii) && strstr (text, query->folded) != NULL)
    return TRUE;

  /* Pinyin: from the start, as initials (zw) or spelled out (zhangw). */
  if (query->compact != NULL
      && (strncmp (text + key->offsets[SEGMENT_INITIALS], query->compact, query->compact_len) == 0
          || strncmp (text + key->offsets[SEGMENT_PINYIN], query->compact, query->compact_len) == 0))
    return TRUE;

  if (query->numbers && strstr (text + key->offsets[SEGMENT_IDS], query->folded) != NULL)
    return TRUE;

  if (query->digits != NULL && strstr (text + key->offsets[SEGMENT_PHONES], query->digits) != NULL)
    return TRUE;

  return FALSE;
}

const char *
wz_queue_query_get_text (const WzQueueQuery *query)
{
  return query != NULL ? query->folded : "";
}

/* ---------------------------------------------------------------------------------------- */
/* Key store */

/* A block holds many keys; a key larger than a block gets a block of its own. */
#define STORE_BLOCK_SIZE (256 * 1024)
#define ROW_NONE G_MAXUINT32

typedef struct
{
  gsize used;
  gsize size;
  char  data[];
} StoreBlock;

/* Each key is preceded by the row it belongs to, ROW_NONE once it is removed. */
typedef struct
{
  guint32    row;
  WzQueueKey key;
} StoreEntry;

struct _WzQueueKeyStore
{
  GPtrArray *blocks;
  gsize      live;
  gsize      dead;
};

static gsize
entry_size (const WzQueueKey *key)
{
  gsize size = G_STRUCT_OFFSET (StoreEntry, key) + sizeof (WzQueueKey) + key->size;

  return (size + 3) & ~(gsize) 3;
}

WzQueueKeyStore *
wz_queue_key_store_new (void)
{
  WzQueueKeyStore *store = g_new0 (WzQueueKeyStore, 1);

  store->blocks = g_ptr_array_new_with_free_func (g_free);

  return store;
}

void
wz_queue_key_store_free (WzQueueKeyStore *store)
{
  if (store == NULL)
    return;

  g_ptr_array_unref (store->blocks);
  g_free (store);
}

/**
 * wz_queue_key_store_add:
 * @row: what wz_queue_key_store_match() marks when the key matches
 * @key: the key to copy in
 *
 * Returns: (transfer none): the copy, valid until it is removed or the store is freed
 */
const WzQueueKey *
wz_queue_key_store_add (WzQueueKeyStore  *store,
                        guint             row,
                        const WzQueueKey *key)
{
  gsize size;
  StoreBlock *block;
  StoreEntry *entry;

  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (row < ROW_NONE, NULL);

  size = entry_size (key);
  block = store->blocks->len > 0 ? g_ptr_array_index (store->blocks, store->blocks->len - 1) : NULL;
  if (block == NULL || block->size - block->used < size)
    {
      gsize block_size = MAX (STORE_BLOCK_SIZE, size);

      block = g_malloc (sizeof (StoreBlock) + block_size);
      block->used = 0;
      block->size = block_size;
      g_ptr_array_add (store->blocks, block);
    }

  entry = (StoreEntry *) (block->data + block->used);
  entry->row = row;
  memcpy (&entry->key, key, sizeof (WzQueueKey) + key->size);
  block->used += size;
  store->live += size;

  return &entry->key;
}

void
wz_queue_key_store_remove (WzQueueKeyStore  *store,
                           const WzQueueKey *key)
{
  StoreEntry *entry;

  g_return_if_fail (store != NULL);

  if (key == NULL)
    return;

  entry = (StoreEntry *) ((char *) key - G_STRUCT_OFFSET (StoreEntry, key));
  g_return_if_fail (entry->row != ROW_NONE);

  entry->row = ROW_NONE;
  store->live -= entry_size (key);
  store->dead += entry_size (key);
}

/* Bytes held by keys in the store, and by keys removed from it (the owner copies the live ones
 * into a new store when too much is dead). */
gsize
wz_queue_key_store_get_live (WzQueueKeyStore *store)
{
  return store->live;
}

gsize
wz_queue_key_store_get_dead (WzQueueKeyStore *store)
{
  return store->dead;
}

/**
 * wz_queue_key_store_match:
 * @query: a search that is not empty
 * @matches: (array length=n_rows): set to 1 at the row of each key the query matches
 *
 * Rows are not cleared first; rows at or past @n_rows are skipped.
 */
void
wz_queue_key_store_match (WzQueueKeyStore    *store,
                          const WzQueueQuery *query,
                          guint8             *matches,
                          guint               n_rows)
{
  g_return_if_fail (store != NULL);
  g_return_if_fail (query != NULL);

  for (guint b = 0; b < store->blocks->len; b++)
    {
      const StoreBlock *block = g_ptr_array_index (store->blocks, b);
      gsize offset = 0;

      while (offset < block->used)
        {
          const StoreEntry *entry = (const StoreEntry *) (block->data + offset);

          if (entry->row < n_rows && wz_queue_query_matches (query, &entry->key))
            matches[entry->row] = 1;
          offset += entry_size (&entry->key);
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* The filter */

static gboolean
wz_queue_filter_match (GtkFilter *filter,
                       gpointer   item)
{
  WzQueueFilter *self = (WzQueueFilter *) filter;
  WzQueueItem *queue_item = item;

  if (self->status != WZ_QUEUE_STATUS_ALL && wz_queue_item_get_status (queue_item) != self->status)
    return FALSE;

  return self->query == NULL || wz_queue_query_matches (self->query, wz_queue_item_get_key (queue_item));
}

static GtkFilterMatch
wz_queue_filter_get_strictness (GtkFilter *filter)
{
  WzQueueFilter *self = WZ_QUEUE_FILTER (filter);

  if (self->status == WZ_QUEUE_STATUS_ALL && self->query == NULL)
    return GTK_FILTER_MATCH_ALL;

  return GTK_FILTER_MATCH_SOME;
}

static void
wz_queue_filter_finalize (GObject *object)
{
  WzQueueFilter *self = WZ_QUEUE_FILTER (object);

  g_clear_pointer (&self->search, g_free);
  g_clear_pointer (&self->query, wz_queue_query_free);

  G_OBJECT_CLASS (wz_queue_filter_parent_class)->finalize (object);
}

static void
wz_queue_filter_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  WzQueueFilter *self = WZ_QUEUE_FILTER (object);

  switch (prop_id)
    {
    case PROP_SEARCH:
      g_value_set_string (value, self->search);
      break;
    case PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_queue_filter_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  WzQueueFilter *self = WZ_QUEUE_FILTER (object);

  switch (prop_id)
    {
    case PROP_SEARCH:
      wz_queue_filter_set_search (self, g_value_get_string (value));
      break;
    case PROP_STATUS:
      wz_queue_filter_set_status (self, g_value_get_enum (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_queue_filter_class_init (WzQueueFilterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkFilterClass *filter_class = GTK_FILTER_CLASS (klass);

  object_class->finalize = wz_queue_filter_finalize;
  object_class->get_property = wz_queue_filter_get_property;
  object_class->set_property = wz_queue_filter_set_property;

  filter_class->match = wz_queue_filter_match;
  filter_class->get_strictness = wz_queue_filter_get_strictness;

  properties[PROP_SEARCH] =
    g_param_spec_string ("search", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATUS] =
    g_param_spec_enum ("status", NULL, NULL, WZ_TYPE_QUEUE_STATUS, WZ_QUEUE_STATUS_ALL,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
wz_queue_filter_init (WzQueueFilter *self)
{
  self->status = WZ_QUEUE_STATUS_ALL;
}

WzQueueFilter *
wz_queue_filter_new (void)
{
  return g_object_new (WZ_TYPE_QUEUE_FILTER, NULL);
}

const char *
wz_queue_filter_get_search (WzQueueFilter *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_FILTER (self), NULL);

  return self->search;
}

/* Typing one more character can only narrow the results, deleting one only widen them, as long
 * as the kinds of comparison stay the same; telling the list model so lets it look only at the
 * rows that can change. */
GtkFilterChange
wz_queue_query_compare (const WzQueueQuery *old_query,
                        const WzQueueQuery *new_query)
{
  guint old_modes, new_modes;

  if (wz_queue_query_is_empty (old_query))
    return GTK_FILTER_CHANGE_MORE_STRICT;
  if (wz_queue_query_is_empty (new_query))
    return GTK_FILTER_CHANGE_LESS_STRICT;

  old_modes = query_modes (old_query);
  new_modes = query_modes (new_query);

  if (g_str_has_prefix (new_query->folded, old_query->folded) && (new_modes & ~old_modes) == 0
      && (old_query->compact == NULL || new_query->compact == NULL
          || g_str_has_prefix (new_query->compact, old_query->compact))
      && (old_query->digits == NULL || new_query->digits == NULL
          || g_str_has_prefix (new_query->digits, old_query->digits)))
    return GTK_FILTER_CHANGE_MORE_STRICT;

  if (g_str_has_prefix (old_query->folded, new_query->folded) && (old_modes & ~new_modes) == 0
      && (old_query->compact == NULL || new_query->compact == NULL
          || g_str_has_prefix (old_query->compact, new_query->compact))
      && (old_query->digits == NULL || new_query->digits == NULL
          || g_str_has_prefix (old_query->digits, new_query->digits)))
    return GTK_FILTER_CHANGE_LESS_STRICT;

  return GTK_FILTER_CHANGE_DIFFERENT;
}

void
wz_queue_filter_set_search (WzQueueFilter *self,
                            const char    *search)
{
  g_autoptr(WzQueueQuery) query = NULL;
  GtkFilterChange change;

  g_return_if_fail (WZ_IS_QUEUE_FILTER (self));

  if (g_strcmp0 (self->search, search) == 0)
    return;

  g_free (self->search);
  self->search = g_strdup (search);

  query = wz_queue_query_new (search);
  if (wz_queue_query_is_empty (query))
    g_clear_pointer (&query, wz_queue_query_free);

  if (query == NULL && self->query == NULL)
    {
      /* Only spaces were typed or removed: the results are the same. */
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEARCH]);
      return;
    }

  if (query != NULL && self->query != NULL && strcmp (query->folded, self->query->folded) == 0)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEARCH]);
      return;
    }

  change = wz_queue_query_compare (self->query, query);
  g_clear_pointer (&self->query, wz_queue_query_free);
  self->query = g_steal_pointer (&query);

  gtk_filter_changed (GTK_FILTER (self), change);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEARCH]);
}

WzQueueStatus
wz_queue_filter_get_status (WzQueueFilter *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_FILTER (self), WZ_QUEUE_STATUS_ALL);

  return self->status;
}

/* The search as prepared, or %NULL when it is empty. */
const WzQueueQuery *
wz_queue_filter_get_query (WzQueueFilter *self)
{
  g_return_val_if_fail (WZ_IS_QUEUE_FILTER (self), NULL);

  return self->query;
}

void
wz_queue_filter_set_status (WzQueueFilter *self,
                            WzQueueStatus  status)
{
  GtkFilterChange change;

  g_return_if_fail (WZ_IS_QUEUE_FILTER (self));
  g_return_if_fail (status <= WZ_QUEUE_STATUS_ALL);

  if (self->status == status)
    return;

  if (self->status == WZ_QUEUE_STATUS_ALL)
    change = GTK_FILTER_CHANGE_MORE_STRICT;
  else if (status == WZ_QUEUE_STATUS_ALL)
    change = GTK_FILTER_CHANGE_LESS_STRICT;
  else
    change = GTK_FILTER_CHANGE_DIFFERENT;

  self->status = status;
  gtk_filter_changed (GTK_FILTER (self), change);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
}
