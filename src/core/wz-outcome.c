/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-outcome"

#include "config.h"

#include "wz-outcome.h"

#include <json-glib/json-glib.h>

#include "wz-error.h"

const char *
wz_outcome_code_for_error (const GError *error)
{
  if (error == NULL || error->domain != WZ_ERROR)
    return "exception";

  switch ((WzError) error->code)
    {
    case WZ_ERROR_INVALID:
      return "invalid";
    case WZ_ERROR_UNAUTHORIZED:
      return "login";
    case WZ_ERROR_FORBIDDEN:
      return "forbidden";
    case WZ_ERROR_NOT_FOUND:
      return "not-found";
    case WZ_ERROR_CONFLICT:
    case WZ_ERROR_PRECONDITION_FAILED:
      return "conflict";
    case WZ_ERROR_GONE:
      return "deleted";
    case WZ_ERROR_TOO_LARGE:
      return "too-long";
    case WZ_ERROR_UNPROCESSABLE:
      return "business-rule";
    case WZ_ERROR_LOCKED:
      return "throttled";
    case WZ_ERROR_UNAVAILABLE:
      return "transient";
    case WZ_ERROR_METHOD_NOT_ALLOWED:
    case WZ_ERROR_UNSUPPORTED_MEDIA:
      return "not-supported";
    case WZ_ERROR_PRECONDITION_REQUIRED:
      return "required";
    case WZ_ERROR_INTERNAL:
    default:
      return "exception";
    }
}

GBytes *
wz_outcome_new (const char *severity,
                const char *code,
                const char *diagnostics)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  gsize length;
  char *data;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "resourceType");
  json_builder_add_string_value (builder, "OperationOutcome");
  json_builder_set_member_name (builder, "issue");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "severity");
  json_builder_add_string_value (builder, severity);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  if (diagnostics != NULL)
    {
      json_builder_set_member_name (builder, "diagnostics");
      json_builder_add_string_value (builder, diagnostics);
    }
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  data = json_generator_to_data (generator, &length);

  return g_bytes_new_take (data, length);
}

GBytes *
wz_outcome_new_for_error (const GError *error)
{
  return wz_outcome_new (error && error->domain == WZ_ERROR &&
                         error->code == WZ_ERROR_INTERNAL ? "fatal" : "error",
                         wz_outcome_code_for_error (error),
                         error ? error->message : "Unknown error");
}
