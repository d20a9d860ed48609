/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-session"

#include "config.h"

#include "wz-session.h"

#include <string.h>
#include <glib/gi18n.h>

#include "wz-error.h"
#include "wz-json.h"

/* What a successful sign-in gave us: the bearer token and who the server says we are. Immutable;
 * signing in again makes a new one. */
struct _WzSession
{
  GObject parent_instance;

  char   *access_token;
  char   *username;
  char   *display_name;
  char   *role;
  char   *practitioner;
  gint64  expires_at;
};

G_DEFINE_FINAL_TYPE (WzSession, wz_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_USERNAME,
  PROP_DISPLAY_NAME,
  PROP_ROLE,
  PROP_ROLE_LABEL,
  PROP_PRACTITIONER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
wz_session_finalize (GObject *object)
{
  WzSession *self = WZ_SESSION (object);

  /* The token is a credential: do not leave it lying in freed memory. */
  if (self->access_token != NULL)
    memset (self->access_token, 0, strlen (self->access_token));
  g_clear_pointer (&self->access_token, g_free);
  g_clear_pointer (&self->username, g_free);
  g_clear_pointer (&self->display_name, g_free);
  g_clear_pointer (&self->role, g_free);
  g_clear_pointer (&self->practitioner, g_free);

  G_OBJECT_CLASS (wz_session_parent_class)->finalize (object);
}

static void
wz_session_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  WzSession *self = WZ_SESSION (object);

  switch (prop_id)
    {
    case PROP_USERNAME:
      g_value_set_string (value, self->username);
      break;
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, wz_session_get_display_name (self));
      break;
    case PROP_ROLE:
      g_value_set_string (value, self->role);
      break;
    case PROP_ROLE_LABEL:
      g_value_set_string (value, wz_session_get_role_label (self));
      break;
    case PROP_PRACTITIONER:
      g_value_set_string (value, self->practitioner);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_session_class_init (WzSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = wz_session_finalize;
  object_class->get_property = wz_session_get_property;

  properties[PROP_USERNAME] =
    g_param_spec_string ("username", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ROLE] =
    g_param_spec_string ("role", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ROLE_LABEL] =
    g_param_spec_string ("role-label", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PRACTITIONER] =
    g_param_spec_string ("practitioner", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
wz_session_init (WzSession *self)
{
}

/**
 * wz_session_new_from_json:
 * @node: the body of a successful `POST /auth/login`
 * @username: the name the user signed in with
 *
 * Returns: (transfer full): the session, or %NULL with @error set when the answer lacks a token
 */
WzSession *
wz_session_new_from_json (JsonNode    *node,
                          const char  *username,
                          GError     **error)
{
  g_autoptr(WzSession) self = NULL;
  JsonObject *object;
  const char *token;
  gint64 expires_in = 0;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "sign-in answer is not a JSON object");
      return NULL;
    }

  object = json_node_get_object (node);
  token = wz_json_get_string (object, "access_token");
  if (token == NULL || *token == '\0')
    {
      g_set_error_literal (error, WZ_ERROR, WZ_ERROR_INVALID,
                           "sign-in answer has no access_token");
      return NULL;
    }

  if (json_object_has_member (object, "expires_in"))
    expires_in = json_object_get_int_member_with_default (object, "expires_in", 0);

  self = g_object_new (WZ_TYPE_SESSION, NULL);
  self->access_token = g_strdup (token);
  self->username = g_strdup (username);
  self->display_name = g_strdup (wz_json_get_string (object, "display_name"));
  self->role = g_strdup (wz_json_get_string (object, "role"));
  self->practitioner = g_strdup (wz_json_get_string (object, "practitioner"));
  self->expires_at = expires_in > 0 ? g_get_real_time () / G_USEC_PER_SEC + expires_in : 0;

  return g_steal_pointer (&self);
}

const char *
wz_session_get_access_token (WzSession *self)
{
  g_return_val_if_fail (WZ_IS_SESSION (self), NULL);

  return self->access_token;
}

const char *
wz_session_get_username (WzSession *self)
{
  g_return_val_if_fail (WZ_IS_SESSION (self), NULL);

  return self->username;
}

/* Falls back to the user name so the header never shows an empty title. */
const char *
wz_session_get_display_name (WzSession *self)
{
  g_return_val_if_fail (WZ_IS_SESSION (self), NULL);

  if (self->display_name != NULL && *self->display_name != '\0')
    return self->display_name;

  return self->username;
}

const char *
wz_session_get_role (WzSession *self)
{
  g_return_val_if_fail (WZ_IS_SESSION (self), NULL);

  return self->role;
}

const char *
wz_session_get_role_label (WzSession *self)
{
  g_return_val_if_fail (WZ_IS_SESSION (self), NULL);

  if (g_strcmp0 (self->role, "doctor") == 0)
    return _("Doctor");
  if (g_strcmp0 (self->role, "pharmacist") == 0)
    return _("Pharmacist");
  if (g_strcmp0 (self->role, "admin") == 0)
    return _("Administrator");

  return self->role;
}

const char *
wz_session_get_practitioner (WzSession *self)
{
  g_return_val_if_fail (WZ_IS_SESSION (self), NULL);

  return self->practitioner;
}

gint64
wz_session_get_expires_at (WzSession *self)
{
  g_return_val_if_fail (WZ_IS_SESSION (self), 0);

  return self->expires_at;
}
