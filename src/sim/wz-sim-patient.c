/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-sim-patient"

#include "config.h"

#include "wz-sim-patient.h"

#include <string.h>

#include "wz-id.h"
#include "wz-time.h"

#define CONSENT_SYSTEM  "https://wenzhen.example/fhir/Consent/online-visit"
#define QUESTIONNAIRE   "https://wenzhen.example/fhir/Questionnaire/pre-consultation|1"
#define DURATION_SYSTEM "https://wenzhen.example/fhir/CodeSystem/preconsult-duration"
/* A patient session ends after a while without requests; a visit can be quiet for longer. */
#define KEEPALIVE_S     240
#define MAX_BACKOFF_MS  10000
#define PAGE_SIZE       200

struct _WzSimPatient
{
  GObject                  parent_instance;

  char                    *server_url;
  char                    *link_token;
  WzSimLang                lang;
  SoupSession             *session;
  GCancellable            *cancellable;

  char                    *token;
  char                    *patient;     /* "Patient/ID" */
  char                    *encounter;   /* "Encounter/ID" */

  SoupWebsocketConnection *ws;
  gboolean                 connecting;
  guint                    reconnect_source;
  guint                    reconnect_ms;
  guint                    keepalive_source;
  gboolean                 stopped;

  /* Messages seen, by id, and the newest meta.lastUpdated read in order of receipt. */
  GHashTable              *seen;
  char                    *mark;
  gboolean                 catching_up;
  gboolean                 catch_up_again;
  guint                    retry_source;     /* catch-up or sign-in, after a failure */
  guint                    retry_ms;
  gboolean                 ready_emitted;

  /* The doctor's words since the last reply, answered together after one pause. */
  GString                 *heard;
  char                    *heard_up_to;
  guint                    typing_source;
  guint                    reply_source;
  guint                    n_replies;

  /* Outgoing messages, sent one at a time in order, kept until the server has them. */
  GQueue                   outbox;      /* Outgoing */
  gboolean                 sending;
  guint                    send_retry_source;
  guint                    send_backoff_ms;
};

typedef struct
{
  char *uuid;
  char *json;
} Outgoing;

G_DEFINE_FINAL_TYPE (WzSimPatient, wz_sim_patient, G_TYPE_OBJECT)

enum
{
  READY,
  FAILED,
  MESSAGE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void connect_ws (WzSimPatient *self);
static void catch_up   (WzSimPatient *self);
static void pump       (WzSimPatient *self);

static void
outgoing_free (Outgoing *outgoing)
{
  g_free (outgoing->uuid);
  g_free (outgoing->json);
  g_free (outgoing);
}

/* ---- replies ---------------------------------------------------------------------------- */

typedef struct
{
  const char *const *keys;          /* substrings of the doctor's text, English ones lower case */
  const char *const  zh[3];
  const char *const  en[3];
} Rule;

static const char *const allergy_keys[] = { "过敏", "allerg", NULL };
static const char *const medicine_keys[] = { "药", "medic", "pill", "tablet", "drug", "dose",
                                             "prescri", NULL };
static const char *const fever_keys[] = { "烧", "发热", "体温", "温度", "fever", "temperature",
                                          NULL };
static const char *const pain_keys[] = { "痛", "疼", "pain", "hurt", "ache", "sore", NULL };
static const char *const thanks_keys[] = { "谢", "再见", "保重", "thank", "bye", "take care",
                                           NULL };

/* In the order they are tried: the most specific question first. */
static const Rule rules[] = {
  { allergy_keys,
    { "我对青霉素过敏，吃了会起皮疹。别的药没发现过敏。",
      "青霉素过敏，其他的应该没有。",
      "小时候打青霉素起过疹子，之后就没用过了。" },
    { "I am allergic to penicillin – it gives me a rash. No other allergies that I know of.",
      "Only penicillin, as far as I know.",
      "I had a rash from penicillin as a child and have avoided it since." } },
  { medicine_keys,
    { "这两天吃了布洛芬，一天两次，每次一片。",
      "平时在吃降压药氨氯地平，每天早上一片。",
      "好的，我会按您说的吃药。一天吃几次？" },
    { "I took ibuprofen for the last two days, one tablet twice a day.",
      "I take amlodipine for my blood pressure, one tablet every morning.",
      "All right, I will take the medicine as you say. How many times a day?" } },
  { fever_keys,
    { "昨晚量了体温，38.2 度，今天早上 37.6 度。",
      "有点低烧，37.8 度左右，晚上会高一点。",
      "刚量了一下，37.5 度。" },
    { "I measured 38.2 °C last night and 37.6 °C this morning.",
      "A low fever, around 37.8 °C, a bit higher in the evening.",
      "I just measured it: 37.5 °C." } },
  { pain_keys,
    { "主要是太阳穴这里痛，一阵一阵的，大概五六分（满分十分）。",
      "痛了三天了，晚上更厉害一些，躺下会好一点。",
      "现在比昨天好一点，还是有点胀痛。" },
    { "It hurts mostly at the temples, it comes and goes, about 5 or 6 out of 10.",
      "It has hurt for three days, worse at night, a little better lying down.",
      "It is a bit better than yesterday, still a dull ache." } },
  { thanks_keys,
    { "谢谢医生！我明白了。",
      "好的，谢谢您，有问题我再联系您。",
      "谢谢医生，辛苦了。" },
    { "Thank you, doctor! I understand.",
      "OK, thank you. I will contact you if anything changes.",
      "Thank you very much, doctor." } },
};

static const char *const default_zh[] = {
  "好的医生，我明白了。",
  "嗯，是的。还需要我提供什么信息吗？",
  "好的，我再观察一下。",
};
static const char *const default_en[] = {
  "OK doctor, I understand.",
  "Yes. Is there anything else you need to know?",
  "All right, I will keep an eye on it.",
};

static WzSimLang
language_of (const char *text,
             WzSimLang   fallback)
{
  gboolean latin = FALSE;

  for (const char *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_get_script (c) == G_UNICODE_SCRIPT_HAN)
        return WZ_SIM_LANG_ZH;
      latin |= g_ascii_isalpha (*p);
    }

  return latin ? WZ_SIM_LANG_EN : fallback;
}

const char *
wz_sim_patient_reply_for (const char *text,
                          WzSimLang   fallback,
                          guint       n)
{
  g_autofree char *folded = g_utf8_strdown (text ? text : "", -1);
  WzSimLang lang = language_of (text, fallback);

  for (guint r = 0; r < G_N_ELEMENTS (rules); r++)
    for (guint k = 0; rules[r].keys[k] != NULL; k++)
      if (strstr (folded, rules[r].keys[k]) != NULL)
        return lang == WZ_SIM_LANG_ZH ? rules[r].zh[n % 3] : rules[r].en[n % 3];

  return lang == WZ_SIM_LANG_ZH ? default_zh[n % 3] : default_en[n % 3];
}

/* ---- HTTP ------------------------------------------------------------------------------- */

typedef void (*ResponseFunc) (WzSimPatient *self,
                              guint         status,
                              JsonNode     *json,
                              GError       *error,
                              gpointer      data);

typedef struct
{
  WzSimPatient *self;
  SoupMessage  *msg;
  ResponseFunc  func;
  gpointer      data;
} Call;

static void
on_response (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Call *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonNode) json = NULL;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (body != NULL && g_bytes_get_size (body) > 0)
    {
      g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));

      json = json_from_string (text, NULL);
    }

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !call->self->stopped)
    call->func (call->self, body ? soup_message_get_status (call->msg) : 0, json, error,
                call->data);

  g_object_unref (call->msg);
  g_object_unref (call->self);
  g_free (call);
}

/* METHOD PATH on the server with the session's token; BODY (nullable) as FHIR JSON;
 * IF_NONE_EXIST (nullable) as that header. */
static void
request (WzSimPatient *self,
         const char   *method,
         const char   *path,
         const char   *body,
         const char   *if_none_exist,
         ResponseFunc  func,
         gpointer      data)
{
  g_autofree char *url = g_strconcat (self->server_url, path, NULL);
  SoupMessage *msg = soup_message_new (method, url);
  SoupMessageHeaders *headers;
  Call *call;

  if (msg == NULL)
    {
      g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                             "“%s” is not a URL", url);

      func (self, 0, NULL, error, data);
      return;
    }

  headers = soup_message_get_request_headers (msg);
  soup_message_headers_replace (headers, "Accept", "application/fhir+json");
  if (self->token != NULL)
    {
      g_autofree char *authorization = g_strconcat ("Bearer ", self->token, NULL);

      soup_message_headers_replace (headers, "Authorization", authorization);
    }
  if (if_none_exist != NULL)
    soup_message_headers_replace (headers, "If-None-Exist", if_none_exist);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, "application/fhir+json", bytes);
    }

  call = g_new0 (Call, 1);
  call->self = g_object_ref (self);
  call->msg = msg;
  call->func = func;
  call->data = data;
  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, self->cancellable,
                                    on_response, call);
}

static void
fail (WzSimPatient *self,
      const char   *message)
{
  if (self->stopped)
    return;
  g_warning ("%s", message);
  g_signal_emit (self, signals[FAILED], 0, message);
}

static guint
next_backoff (guint *backoff_ms)
{
  guint delay = *backoff_ms ? *backoff_ms : 500;

  *backoff_ms = MIN (delay * 2, MAX_BACKOFF_MS);
  return delay;
}

static char *
to_json (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  return json_to_string (root, FALSE);
}

static void
add_reference (JsonBuilder *builder,
               const char  *member,
               const char  *reference)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, reference);
  json_builder_end_object (builder);
}

static char *
now_text (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  return g_date_time_format_iso8601 (now);
}

/* ---- websocket frames ------------------------------------------------------------------- */

gboolean
wz_sim_patient_send_frame (WzSimPatient *self,
                           const char   *type,
                           JsonObject   *fields)
{
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonObject) frame = json_object_new ();
  g_autofree char *text = NULL;

  g_return_val_if_fail (WZ_IS_SIM_PATIENT (self), FALSE);
  g_return_val_if_fail (type != NULL, FALSE);

  if (self->ws == NULL ||
      soup_websocket_connection_get_state (self->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return FALSE;

  if (fields != NULL)
    {
      g_autoptr(GList) members = json_object_get_members (fields);

      for (GList *l = members; l != NULL; l = l->next)
        json_object_set_member (frame, l->data,
                                json_node_copy (json_object_get_member (fields, l->data)));
    }
  json_object_set_string_member (frame, "type", type);
  json_object_set_string_member (frame, "encounter", self->encounter);
  json_node_set_object (root, frame);
  text = json_to_string (root, FALSE);
  soup_websocket_connection_send_text (self->ws, text);
  return TRUE;
}

static void
send_receipt (WzSimPatient *self,
              const char   *state,
              const char   *up_to)
{
  g_autoptr(JsonObject) fields = json_object_new ();

  json_object_set_string_member (fields, "state", state);
  json_object_set_string_member (fields, "upTo", up_to);
  /* Not sent while offline: the next receipt covers it, being a maximum. */
  wz_sim_patient_send_frame (self, "receipt", fields);
}

/* ---- sending ---------------------------------------------------------------------------- */

static gboolean
retry_send (gpointer user_data)
{
  WzSimPatient *self = user_data;

  self->send_retry_source = 0;
  pump (self);
  return G_SOURCE_REMOVE;
}

static void
on_sent (WzSimPatient *self,
         guint         status,
         JsonNode     *json,
         GError       *error,
         gpointer      data)
{
  self->sending = FALSE;

  if (status == 200 || status == 201)
    {
      outgoing_free (g_queue_pop_head (&self->outbox));
      self->send_backoff_ms = 0;
      g_debug ("Reply stored (%u)", status);
      pump (self);
      return;
    }
  if (status == 401)
    {
      fail (self, "The patient session has ended; the simulated patient stops");
      return;
    }
  if (status >= 400 && status < 500 && status != 408 && status != 429)
    {
      g_warning ("The server refused a reply (%u); it is dropped", status);
      outgoing_free (g_queue_pop_head (&self->outbox));
      pump (self);
      return;
    }

  /* The server is away or busy: the same message again, later, with the same identifier. */
  g_debug ("Sending failed (%u: %s); retrying", status, error ? error->message : "");
  self->send_retry_source = g_timeout_add (next_backoff (&self->send_backoff_ms), retry_send,
                                           self);
}

static void
pump (WzSimPatient *self)
{
  Outgoing *next = g_queue_peek_head (&self->outbox);
  g_autofree char *condition = NULL;

  if (next == NULL || self->sending || self->send_retry_source != 0 || self->token == NULL)
    return;

  self->sending = TRUE;
  condition = g_strdup_printf ("identifier=urn:ietf:rfc:3986|%s", next->uuid);
  request (self, "POST", "/fhir/Communication", next->json, condition, on_sent, NULL);
}

static void
enqueue_text (WzSimPatient *self,
              const char   *text)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *sent = now_text ();
  Outgoing *outgoing = g_new0 (Outgoing, 1);

  outgoing->uuid = wz_id_new_urn_uuid ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "Communication");
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "completed");
  json_builder_set_member_name (builder, "identifier");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, "urn:ietf:rfc:3986");
  json_builder_set_member_name (builder, "value");
  json_builder_add_string_value (builder, outgoing->uuid);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  add_reference (builder, "encounter", self->encounter);
  add_reference (builder, "subject", self->patient);
  add_reference (builder, "sender", self->patient);
  json_builder_set_member_name (builder, "sent");
  json_builder_add_string_value (builder, sent);
  json_builder_set_member_name (builder, "payload");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "contentString");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  outgoing->json = to_json (builder);

  g_queue_push_tail (&self->outbox, outgoing);
  pump (self);
}

/* ---- answering -------------------------------------------------------------------------- */

static gboolean
on_typing_time (gpointer user_data)
{
  WzSimPatient *self = user_data;

  self->typing_source = 0;
  wz_sim_patient_send_frame (self, "typing", NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
on_reply_time (gpointer user_data)
{
  WzSimPatient *self = user_data;
  const char *reply;

  self->reply_source = 0;
  if (self->heard_up_to != NULL)
    send_receipt (self, "read", self->heard_up_to);
  reply = wz_sim_patient_reply_for (self->heard->str, self->lang, self->n_replies++);
  g_string_truncate (self->heard, 0);
  g_clear_pointer (&self->heard_up_to, g_free);
  enqueue_text (self, reply);
  return G_SOURCE_REMOVE;
}

/* The doctor said TEXT: one answer follows after a pause of one to three seconds, typing
 * shown part of the way in; more words meanwhile are answered together. */
static void
heard (WzSimPatient *self,
       const char   *text,
       const char   *last_updated)
{
  guint delay;

  if (self->heard->len > 0)
    g_string_append_c (self->heard, '\n');
  g_string_append (self->heard, text);
  g_free (self->heard_up_to);
  self->heard_up_to = g_strdup (last_updated);

  if (self->reply_source != 0)
    return;
  delay = (guint) g_random_int_range (1000, 3000);
  self->typing_source = g_timeout_add (delay * 3 / 10, on_typing_time, self);
  self->reply_source = g_timeout_add (delay, on_reply_time, self);
}

static const char *
string_at (JsonObject *object,
           const char *member,
           const char *inner)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_object_get_string_member_with_default (json_node_get_object (node), inner, NULL);
}

/* Text of a message: its strings joined; an attachment alone reads as nothing said. */
static char *
text_of (JsonObject *message)
{
  JsonNode *payload = json_object_get_member (message, "payload");
  GString *text = g_string_new (NULL);

  if (payload != NULL && JSON_NODE_HOLDS_ARRAY (payload))
    for (guint i = 0; i < json_array_get_length (json_node_get_array (payload)); i++)
      {
        JsonNode *part = json_array_get_element (json_node_get_array (payload), i);

        if (JSON_NODE_HOLDS_OBJECT (part) &&
            json_object_has_member (json_node_get_object (part), "contentString"))
          g_string_append (text, json_object_get_string_member_with_default (
                                   json_node_get_object (part), "contentString", ""));
      }

  return g_string_free (text, FALSE);
}

/* A message read in order of receipt. ANSWER: whether a doctor's message gets a reply. */
static void
take_message (WzSimPatient *self,
              JsonObject   *message,
              gboolean      answer)
{
  const char *id = json_object_get_string_member_with_default (message, "id", NULL);
  const char *last_updated = string_at (message, "meta", "lastUpdated");
  const char *sender = string_at (message, "sender", "reference");

  if (id == NULL || last_updated == NULL)
    return;
  if (self->mark == NULL || strcmp (last_updated, self->mark) > 0)
    {
      g_free (self->mark);
      self->mark = g_strdup (last_updated);
    }
  if (!g_hash_table_add (self->seen, g_strdup (id)))
    return;
  if (g_strcmp0 (sender, self->patient) == 0 ||
      g_strcmp0 (json_object_get_string_member_with_default (message, "status", ""),
                 "completed") != 0)
    return;

  send_receipt (self, "delivered", last_updated);
  if (answer)
    {
      g_autofree char *text = text_of (message);

      heard (self, text, last_updated);
    }
}

/* ---- reading the conversation ----------------------------------------------------------- */

static char *
page_path (WzSimPatient *self)
{
  g_autofree char *encounter = g_uri_escape_string (self->encounter, "/", FALSE);

  if (self->mark != NULL)
    {
      g_autofree char *mark = g_uri_escape_string (self->mark, NULL, FALSE);

      return g_strdup_printf ("/fhir/Communication?encounter=%s&_sort=_lastUpdated&_count=%d"
                              "&_lastUpdated=gt%s", encounter, PAGE_SIZE, mark);
    }
  return g_strdup_printf ("/fhir/Communication?encounter=%s&_sort=_lastUpdated&_count=%d",
                          encounter, PAGE_SIZE);
}

/* The path of BUNDLE's next link, or NULL. */
static char *
next_page (JsonObject *bundle,
           const char *server_url)
{
  JsonNode *links = json_object_get_member (bundle, "link");

  if (links == NULL || !JSON_NODE_HOLDS_ARRAY (links))
    return NULL;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (links)); i++)
    {
      JsonNode *node = json_array_get_element (json_node_get_array (links), i);
      JsonObject *link;
      const char *url;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      link = json_node_get_object (node);
      url = json_object_get_string_member_with_default (link, "url", "");
      if (g_strcmp0 (json_object_get_string_member_with_default (link, "relation", ""), "next") == 0)
        return g_strdup (g_str_has_prefix (url, server_url) ? url + strlen (server_url)
                                                            : strstr (url, "/fhir/"));
    }

  return NULL;
}

typedef enum
{
  READ_HISTORY,   /* first reading: only the last doctor's message may need an answer */
  READ_NEW,       /* a catch-up: every new doctor's message is answered */
} ReadMode;

static void on_page (WzSimPatient *self,
                     guint         status,
                     JsonNode     *json,
                     GError       *error,
                     gpointer      data);

static void
read_pages (WzSimPatient *self,
            const char   *path,
            ReadMode      mode)
{
  request (self, "GET", path, NULL, NULL, on_page, GINT_TO_POINTER (mode));
}

static void
finish_reading (WzSimPatient *self,
                ReadMode      mode)
{
  self->catching_up = FALSE;
  if (mode == READ_HISTORY)
    connect_ws (self);
  else if (self->catch_up_again)
    catch_up (self);
}

static gboolean
retry_catch_up (gpointer user_data)
{
  WzSimPatient *self = user_data;

  self->retry_source = 0;
  self->catching_up = FALSE;
  catch_up (self);
  return G_SOURCE_REMOVE;
}

static void
on_page (WzSimPatient *self,
         guint         status,
         JsonNode     *json,
         GError       *error,
         gpointer      data)
{
  ReadMode mode = GPOINTER_TO_INT (data);
  JsonObject *bundle;
  JsonNode *entries;
  JsonObject *last_doctor = NULL;
  g_autofree char *next = NULL;

  if (status == 401)
    {
      fail (self, "The patient session has ended; the simulated patient stops");
      return;
    }
  if (status != 200 || json == NULL || !JSON_NODE_HOLDS_OBJECT (json))
    {
      g_debug ("Reading the conversation failed (%u); trying again", status);
      if (mode == READ_HISTORY)
        {
          /* Go online anyway: the catch-up after connecting reads it again. */
          self->catching_up = FALSE;
          connect_ws (self);
        }
      else
        self->retry_source = g_timeout_add (1000, retry_catch_up, self);
      return;
    }

  bundle = json_node_get_object (json);
  entries = json_object_get_member (bundle, "entry");
  for (guint i = 0; entries != NULL && JSON_NODE_HOLDS_ARRAY (entries) &&
                    i < json_array_get_length (json_node_get_array (entries)); i++)
    {
      JsonNode *entry = json_array_get_element (json_node_get_array (entries), i);
      JsonNode *resource;

      if (!JSON_NODE_HOLDS_OBJECT (entry) ||
          (resource = json_object_get_member (json_node_get_object (entry), "resource")) == NULL ||
          !JSON_NODE_HOLDS_OBJECT (resource))
        continue;
      take_message (self, json_node_get_object (resource), mode == READ_NEW);
      if (mode == READ_HISTORY)
        last_doctor = g_strcmp0 (string_at (json_node_get_object (resource), "sender",
                                            "reference"), self->patient) != 0
                      ? json_node_get_object (resource) : NULL;
    }

  next = next_page (bundle, self->server_url);
  /* The doctor wrote last before the patient came: that question still gets its answer. */
  if (mode == READ_HISTORY && next == NULL && last_doctor != NULL)
    {
      g_autofree char *text = text_of (last_doctor);

      heard (self, text, string_at (last_doctor, "meta", "lastUpdated"));
    }

  if (next != NULL)
    read_pages (self, next, mode);
  else
    finish_reading (self, mode);
}

static void
catch_up (WzSimPatient *self)
{
  g_autofree char *path = NULL;

  if (self->catching_up)
    {
      self->catch_up_again = TRUE;
      return;
    }
  self->catching_up = TRUE;
  self->catch_up_again = FALSE;
  path = page_path (self);
  read_pages (self, path, READ_NEW);
}

/* ---- websocket -------------------------------------------------------------------------- */

static gboolean
reconnect (gpointer user_data)
{
  WzSimPatient *self = user_data;

  self->reconnect_source = 0;
  connect_ws (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_reconnect (WzSimPatient *self)
{
  if (self->stopped || self->reconnect_source != 0)
    return;
  self->reconnect_source = g_timeout_add (next_backoff (&self->reconnect_ms), reconnect, self);
}

static void
on_ws_message (SoupWebsocketConnection *conn,
               gint                     data_type,
               GBytes                  *message,
               WzSimPatient            *self)
{
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *frame;
  const char *type;

  if (data_type != SOUP_WEBSOCKET_DATA_TEXT)
    return;
  text = g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));
  root = json_from_string (text, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  frame = json_node_get_object (root);
  type = json_object_get_string_member_with_default (frame, "type", "");

  if (strcmp (type, "resource") == 0)
    {
      if (g_strcmp0 (json_object_get_string_member_with_default (frame, "resourceType", ""),
                     "Communication") == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (frame, "encounter", ""),
                     self->encounter) == 0)
        catch_up (self);
    }
  else if (strcmp (type, "error") == 0)
    g_warning ("The server says: %s",
               json_object_get_string_member_with_default (frame, "message", ""));
  else if (strcmp (type, "hello") != 0 && strcmp (type, "pong") != 0 &&
           strcmp (type, "typing") != 0 && strcmp (type, "receipt") != 0)
    g_signal_emit (self, signals[MESSAGE], g_quark_from_string (type), frame);
}

static void
on_ws_closed (SoupWebsocketConnection *conn,
              WzSimPatient            *self)
{
  gushort code = soup_websocket_connection_get_close_code (conn);

  g_signal_handlers_disconnect_by_data (conn, self);
  g_clear_object (&self->ws);
  if (self->stopped)
    return;
  if (code == SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION)
    {
      fail (self, "The patient session has ended; the simulated patient stops");
      return;
    }
  g_debug ("Websocket closed (%u); reconnecting", code);
  schedule_reconnect (self);
}

static void
on_ws_connected (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(WzSimPatient) self = user_data;
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *conn;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  self->connecting = FALSE;
  if (conn == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !self->stopped)
        {
          g_debug ("Websocket: %s; trying again", error->message);
          schedule_reconnect (self);
        }
      return;
    }
  if (self->stopped)
    {
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_object_unref (conn);
      return;
    }

  self->ws = conn;
  self->reconnect_ms = 0;
  soup_websocket_connection_set_keepalive_interval (conn, 30);
  g_signal_connect (conn, "message", G_CALLBACK (on_ws_message), self);
  g_signal_connect (conn, "closed", G_CALLBACK (on_ws_closed), self);

  /* Whatever was written while the socket was down. */
  catch_up (self);
  pump (self);
  if (!self->ready_emitted)
    {
      self->ready_emitted = TRUE;
      g_signal_emit (self, signals[READY], 0);
    }
}

static void
connect_ws (WzSimPatient *self)
{
  g_autofree char *url = NULL;
  g_autofree char *authorization = NULL;
  g_autoptr(SoupMessage) msg = NULL;

  if (self->stopped || self->ws != NULL || self->connecting)
    return;

  url = g_strconcat (self->server_url, "/ws", NULL);
  msg = soup_message_new ("GET", url);
  if (msg == NULL)
    {
      fail (self, "The server URL cannot be used for a websocket");
      return;
    }
  authorization = g_strconcat ("Bearer ", self->token, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                authorization);
  self->connecting = TRUE;
  soup_session_websocket_connect_async (self->session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        self->cancellable, on_ws_connected, g_object_ref (self));
}

/* ---- signing in and pre-consultation ---------------------------------------------------- */

static void
read_history (WzSimPatient *self)
{
  g_autofree char *path = page_path (self);

  self->catching_up = TRUE;
  read_pages (self, path, READ_HISTORY);
}

static void on_preconsult_sent (WzSimPatient *self, guint status, JsonNode *json, GError *error,
                                gpointer data);

static char *
questionnaire_response (WzSimPatient *self,
                        JsonObject   *rules_object)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *uuid = wz_id_new_urn_uuid ();
  g_autofree char *authored = now_text ();
  gboolean zh = self->lang == WZ_SIM_LANG_ZH;
  JsonNode *flags = rules_object ? json_object_get_member (rules_object, "red_flags") : NULL;

#define ITEM(link, label) G_STMT_START {                                 \
    json_builder_begin_object (builder);                                 \
    json_builder_set_member_name (builder, "linkId");                    \
    json_builder_add_string_value (builder, (link));                     \
    json_builder_set_member_name (builder, "text");                      \
    json_builder_add_string_value (builder, (label));                    \
    json_builder_set_member_name (builder, "answer");                    \
    json_builder_begin_array (builder);                                  \
    json_builder_begin_object (builder);                                 \
  } G_STMT_END
#define END_ITEM() G_STMT_START {                                        \
    json_builder_end_object (builder);                                   \
    json_builder_end_array (builder);                                    \
    json_builder_end_object (builder);                                   \
  } G_STMT_END

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "QuestionnaireResponse");
  json_builder_set_member_name (builder, "identifier");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, "urn:ietf:rfc:3986");
  json_builder_set_member_name (builder, "value");
  json_builder_add_string_value (builder, uuid);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "questionnaire");
  json_builder_add_string_value (builder, QUESTIONNAIRE);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "completed");
  add_reference (builder, "subject", self->patient);
  add_reference (builder, "encounter", self->encounter);
  json_builder_set_member_name (builder, "authored");
  json_builder_add_string_value (builder, authored);
  json_builder_set_member_name (builder, "item");
  json_builder_begin_array (builder);

  ITEM ("chief-complaint", zh ? "主要哪里不舒服" : "Main complaint");
  json_builder_set_member_name (builder, "valueString");
  json_builder_add_string_value (builder, zh ? "头痛三天，有点低烧" : "Headache for three days, a slight fever");
  END_ITEM ();
  ITEM ("duration", zh ? "多久了" : "How long");
  json_builder_set_member_name (builder, "valueCoding");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, DURATION_SYSTEM);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, "d3_7");
  json_builder_set_member_name (builder, "display");
  json_builder_add_string_value (builder, zh ? "3–7 天" : "3–7 days");
  json_builder_end_object (builder);
  END_ITEM ();
  ITEM ("medications-none", zh ? "没有在用的药" : "No medicines");
  json_builder_set_member_name (builder, "valueBoolean");
  json_builder_add_boolean_value (builder, TRUE);
  END_ITEM ();
  ITEM ("allergies-none", zh ? "没有已知过敏" : "No known allergies");
  json_builder_set_member_name (builder, "valueBoolean");
  json_builder_add_boolean_value (builder, TRUE);
  END_ITEM ();

  /* Every warning sign that applies to anyone is answered: no. */
  for (guint i = 0; flags != NULL && JSON_NODE_HOLDS_ARRAY (flags) &&
                    i < json_array_get_length (json_node_get_array (flags)); i++)
    {
      JsonNode *node = json_array_get_element (json_node_get_array (flags), i);
      JsonObject *flag;
      const char *id;
      g_autofree char *link = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      flag = json_node_get_object (node);
      id = json_object_get_string_member_with_default (flag, "id", NULL);
      if (id == NULL || json_object_has_member (flag, "applies_to"))
        continue;
      link = g_strconcat ("red-flag.", id, NULL);
      ITEM (link, id);
      json_builder_set_member_name (builder, "valueBoolean");
      json_builder_add_boolean_value (builder, FALSE);
      END_ITEM ();
    }

#undef ITEM
#undef END_ITEM

  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return to_json (builder);
}

static char *
consent (WzSimPatient *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *now = now_text ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "Consent");
  json_builder_set_member_name (builder, "identifier");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, CONSENT_SYSTEM);
  json_builder_set_member_name (builder, "value");
  json_builder_add_string_value (builder, self->encounter + strlen ("Encounter/"));
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "active");
  json_builder_set_member_name (builder, "scope");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, "http://terminology.hl7.org/CodeSystem/consentscope");
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, "treatment");
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "category");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, "http://loinc.org");
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, "59284-0");
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, "互联网诊疗知情同意 Consent to an online visit");
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  add_reference (builder, "patient", self->patient);
  json_builder_set_member_name (builder, "dateTime");
  json_builder_add_string_value (builder, now);
  json_builder_set_member_name (builder, "performer");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "reference");
  json_builder_add_string_value (builder, self->patient);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "policyRule");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "coding");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "system");
  json_builder_add_string_value (builder, "http://terminology.hl7.org/CodeSystem/v3-ActCode");
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, "OPTIN");
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "provision");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "permit");
  json_builder_set_member_name (builder, "period");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "start");
  json_builder_add_string_value (builder, now);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "data");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "meaning");
  json_builder_add_string_value (builder, "related");
  add_reference (builder, "reference", self->encounter);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  return to_json (builder);
}

static void
on_rules (WzSimPatient *self,
          guint         status,
          JsonNode     *json,
          GError       *error,
          gpointer      data)
{
  g_autofree char *answers = NULL;
  g_autofree char *condition = NULL;
  JsonObject *rules_object = json != NULL && JSON_NODE_HOLDS_OBJECT (json)
                             ? json_node_get_object (json) : NULL;
  const char *uuid;
  g_autoptr(JsonNode) parsed = NULL;

  answers = questionnaire_response (self, status == 200 ? rules_object : NULL);
  parsed = json_from_string (answers, NULL);
  uuid = string_at (json_node_get_object (parsed), "identifier", "value");
  condition = g_strdup_printf ("identifier=urn:ietf:rfc:3986|%s", uuid);
  request (self, "POST", "/fhir/QuestionnaireResponse", answers, condition, on_preconsult_sent,
           NULL);
}

static void
on_consent_sent (WzSimPatient *self,
                 guint         status,
                 JsonNode     *json,
                 GError       *error,
                 gpointer      data)
{
  if (status != 200 && status != 201)
    g_warning ("The consent was not stored (%u); the visit goes on without it", status);
  /* The rules say which warning signs the page asks about. */
  request (self, "GET", "/visit/triage-rules.json", NULL, NULL, on_rules, NULL);
}

static void
on_preconsult_sent (WzSimPatient *self,
                    guint         status,
                    JsonNode     *json,
                    GError       *error,
                    gpointer      data)
{
  if (status != 200 && status != 201)
    g_warning ("The pre-consultation answers were not stored (%u)", status);
  else
    g_debug ("Pre-consultation sent");
  read_history (self);
}

static void
on_preconsult_known (WzSimPatient *self,
                     guint         status,
                     JsonNode     *json,
                     GError       *error,
                     gpointer      data)
{
  g_autofree char *body = NULL;
  g_autofree char *condition = NULL;
  gint64 total = -1;

  if (status == 200 && json != NULL && JSON_NODE_HOLDS_OBJECT (json))
    total = json_object_get_int_member_with_default (json_node_get_object (json), "total", -1);
  if (total != 0)
    {
      read_history (self);
      return;
    }

  body = consent (self);
  condition = g_strdup_printf ("identifier=%s|%s", CONSENT_SYSTEM,
                               self->encounter + strlen ("Encounter/"));
  request (self, "POST", "/fhir/Consent", body, condition, on_consent_sent, NULL);
}

static void
on_keepalive (WzSimPatient *self,
              guint         status,
              JsonNode     *json,
              GError       *error,
              gpointer      data)
{
  if (status == 401)
    fail (self, "The patient session has ended; the simulated patient stops");
}

static gboolean
keepalive (gpointer user_data)
{
  WzSimPatient *self = user_data;
  g_autofree char *path = g_strconcat ("/fhir/", self->encounter, NULL);

  request (self, "GET", path, NULL, NULL, on_keepalive, NULL);
  return G_SOURCE_CONTINUE;
}

static void sign_in (WzSimPatient *self);

static gboolean
retry_sign_in (gpointer user_data)
{
  WzSimPatient *self = user_data;

  self->retry_source = 0;
  sign_in (self);
  return G_SOURCE_REMOVE;
}

static void
on_signed_in (WzSimPatient *self,
              guint         status,
              JsonNode     *json,
              GError       *error,
              gpointer      data)
{
  JsonObject *answer;
  g_autofree char *path = NULL;

  if (status == 0 || status >= 500)
    {
      g_debug ("Cannot reach the server yet (%s)", error ? error->message : "server error");
      self->retry_source = g_timeout_add (next_backoff (&self->retry_ms), retry_sign_in, self);
      return;
    }
  if (status != 200 || json == NULL || !JSON_NODE_HOLDS_OBJECT (json))
    {
      fail (self, "The visit link was refused: it was already used, has expired or is unknown");
      return;
    }

  answer = json_node_get_object (json);
  self->token = g_strdup (json_object_get_string_member_with_default (answer, "access_token", ""));
  self->patient = g_strdup (json_object_get_string_member_with_default (answer, "patient", ""));
  self->encounter = g_strdup (json_object_get_string_member_with_default (answer, "encounter",
                                                                          ""));
  if (!g_str_has_prefix (self->patient, "Patient/") ||
      !g_str_has_prefix (self->encounter, "Encounter/"))
    {
      fail (self, "The server's answer to the visit link names no patient and visit");
      return;
    }
  g_debug ("Signed in as %s for %s", self->patient, self->encounter);
  self->keepalive_source = g_timeout_add_seconds (KEEPALIVE_S, keepalive, self);

  path = g_strdup_printf ("/fhir/QuestionnaireResponse?encounter=%s&_count=1", self->encounter);
  request (self, "GET", path, NULL, NULL, on_preconsult_known, NULL);
}

static void
sign_in (WzSimPatient *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *body = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "link_token");
  json_builder_add_string_value (builder, self->link_token);
  json_builder_end_object (builder);
  body = to_json (builder);
  request (self, "POST", "/auth/visit", body, NULL, on_signed_in, NULL);
}

/* ---- object ----------------------------------------------------------------------------- */

void
wz_sim_patient_start (WzSimPatient *self)
{
  g_return_if_fail (WZ_IS_SIM_PATIENT (self));

  sign_in (self);
}

void
wz_sim_patient_stop (WzSimPatient *self)
{
  g_return_if_fail (WZ_IS_SIM_PATIENT (self));

  self->stopped = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->reconnect_source, g_source_remove);
  g_clear_handle_id (&self->keepalive_source, g_source_remove);
  g_clear_handle_id (&self->typing_source, g_source_remove);
  g_clear_handle_id (&self->reply_source, g_source_remove);
  g_clear_handle_id (&self->send_retry_source, g_source_remove);
  g_clear_handle_id (&self->retry_source, g_source_remove);
  if (self->ws != NULL)
    {
      SoupWebsocketConnection *ws = g_steal_pointer (&self->ws);

      g_signal_handlers_disconnect_by_data (ws, self);
      if (soup_websocket_connection_get_state (ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
      g_object_unref (ws);
    }
}

const char *
wz_sim_patient_get_token (WzSimPatient *self)
{
  g_return_val_if_fail (WZ_IS_SIM_PATIENT (self), NULL);
  return self->token;
}

const char *
wz_sim_patient_get_patient (WzSimPatient *self)
{
  g_return_val_if_fail (WZ_IS_SIM_PATIENT (self), NULL);
  return self->patient;
}

const char *
wz_sim_patient_get_encounter (WzSimPatient *self)
{
  g_return_val_if_fail (WZ_IS_SIM_PATIENT (self), NULL);
  return self->encounter;
}

const char *
wz_sim_patient_get_server_url (WzSimPatient *self)
{
  g_return_val_if_fail (WZ_IS_SIM_PATIENT (self), NULL);
  return self->server_url;
}

SoupSession *
wz_sim_patient_get_session (WzSimPatient *self)
{
  g_return_val_if_fail (WZ_IS_SIM_PATIENT (self), NULL);
  return self->session;
}

static void
wz_sim_patient_dispose (GObject *object)
{
  WzSimPatient *self = WZ_SIM_PATIENT (object);

  wz_sim_patient_stop (self);
  g_clear_object (&self->session);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (wz_sim_patient_parent_class)->dispose (object);
}

static void
wz_sim_patient_finalize (GObject *object)
{
  WzSimPatient *self = WZ_SIM_PATIENT (object);

  g_free (self->server_url);
  g_free (self->link_token);
  g_free (self->token);
  g_free (self->patient);
  g_free (self->encounter);
  g_free (self->mark);
  g_free (self->heard_up_to);
  g_string_free (self->heard, TRUE);
  g_hash_table_unref (self->seen);
  g_queue_clear_full (&self->outbox, (GDestroyNotify) outgoing_free);

  G_OBJECT_CLASS (wz_sim_patient_parent_class)->finalize (object);
}

static void
wz_sim_patient_class_init (WzSimPatientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wz_sim_patient_dispose;
  object_class->finalize = wz_sim_patient_finalize;

  /**
   * WzSimPatient::ready:
   *
   * The patient is signed in, the pre-consultation is done and the websocket is open.
   */
  signals[READY] = g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                 NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * WzSimPatient::failed:
   * @message: why it cannot go on
   */
  signals[FAILED] = g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * WzSimPatient::message:
   * @frame: the JsonObject of the frame, as the server relayed it ("from" set by the server)
   *
   * A signaling frame of the visit; detailed with its type: "message::offer", "::ice", …
   */
  signals[MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass),
                                   G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0, NULL, NULL, NULL,
                                   G_TYPE_NONE, 1, JSON_TYPE_OBJECT);
}

static void
wz_sim_patient_init (WzSimPatient *self)
{
  self->cancellable = g_cancellable_new ();
  self->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->heard = g_string_new (NULL);
  g_queue_init (&self->outbox);
}

WzSimPatient *
wz_sim_patient_new (const char *server_url,
                    const char *link_token,
                    WzSimLang   lang)
{
  WzSimPatient *self;
  const char *hash;

  g_return_val_if_fail (server_url != NULL, NULL);
  g_return_val_if_fail (link_token != NULL, NULL);

  self = g_object_new (WZ_TYPE_SIM_PATIENT, NULL);
  self->server_url = g_strdup (server_url);
  if (g_str_has_suffix (self->server_url, "/"))
    self->server_url[strlen (self->server_url) - 1] = '\0';
  /* The whole visit link works too: the token is its fragment. */
  hash = strchr (link_token, '#');
  self->link_token = g_strdup (hash ? hash + 1 : link_token);
  self->lang = lang;
  self->session = soup_session_new_with_options ("timeout", 15, NULL);

  return self;
}
