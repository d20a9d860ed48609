/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-visit-link"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "wz-auth.h"
#include "wz-error.h"

/* Visit links and the patient sessions they open, against WzAuth with a clock the test moves:
 * single use (also when two tabs race), expiry, sessions without an idle timeout but with an end,
 * tokens kept only as hashes, and all of it surviving a restart. */

#define MINUTE ((gint64) 60 * G_USEC_PER_SEC)
#define HOUR   (60 * MINUTE)
#define DAY    (24 * HOUR)

typedef struct
{
  char   *dir;
  WzAuth *auth;
  gint64  now;
} Fixture;

static gint64
fake_clock (gpointer user_data)
{
  Fixture *fx = user_data;

  return fx->now;
}

static void
open_auth (Fixture *fx)
{
  g_autoptr(GError) error = NULL;

  g_clear_object (&fx->auth);
  fx->auth = wz_auth_open (fx->dir, &error);
  g_assert_no_error (error);
  wz_auth_set_clock (fx->auth, fake_clock, fx);
}

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fx->dir = g_dir_make_tmp ("wz-visit-link-XXXXXX", &error);
  g_assert_no_error (error);
  fx->now = g_get_real_time ();
  open_auth (fx);
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_clear_object (&fx->auth);
  dir = g_dir_open (fx->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (fx->dir, name, NULL);

      g_remove (child);
    }
  g_rmdir (fx->dir);
  g_free (fx->dir);
}

static char *
make_link (Fixture *fx)
{
  g_autoptr(GError) error = NULL;
  gint64 expires = 0;
  char *link = wz_auth_create_visit_link (fx->auth, "pat-1", "enc-1", "Practitioner/prac-1",
                                          &expires, &error);

  g_assert_no_error (error);
  g_assert_nonnull (link);
  g_assert_cmpuint (strlen (link), ==, 43);
  g_assert_cmpint (expires, ==, fx->now + 7 * DAY);
  return link;
}

static void
assert_refused (Fixture    *fx,
                const char *link,
                const char *needle)
{
  g_autoptr(GError) error = NULL;
  const WzSession *session = NULL;
  g_autofree char *token = wz_auth_redeem_visit_link (fx->auth, link, &session, &error);

  g_assert_null (token);
  g_assert_null (session);
  g_assert_error (error, WZ_ERROR, WZ_ERROR_UNAUTHORIZED);
  if (strstr (error->message, needle) == NULL)
    g_error ("“%s” does not say “%s”", error->message, needle);
  g_assert_nonnull (strstr (error->message, "ask your doctor for a new one"));
}

static void
test_single_use (Fixture       *fx,
                 gconstpointer  data)
{
  g_autofree char *link = make_link (fx);
  g_autoptr(GError) error = NULL;
  const WzSession *session = NULL;
  g_autofree char *token = wz_auth_redeem_visit_link (fx->auth, link, &session, &error);

  g_assert_no_error (error);
  g_assert_nonnull (token);
  g_assert_cmpstr (session->role, ==, "patient");
  g_assert_cmpstr (session->patient_id, ==, "pat-1");
  g_assert_cmpstr (session->encounter_id, ==, "enc-1");
  g_assert_null (session->practitioner_id);
  g_assert_cmpstr (session->username, ==, "Patient/pat-1");

  session = wz_auth_lookup (fx->auth, token);
  g_assert_nonnull (session);
  g_assert_cmpstr (session->encounter_id, ==, "enc-1");

  assert_refused (fx, link, "already used");
  /* Still spent after a restart. */
  open_auth (fx);
  assert_refused (fx, link, "already used");
  g_assert_nonnull (wz_auth_lookup (fx->auth, token));
}

static void
test_expiry (Fixture       *fx,
             gconstpointer  data)
{
  g_autofree char *late = make_link (fx);
  g_autofree char *in_time = make_link (fx);
  g_autoptr(GError) error = NULL;
  const WzSession *session = NULL;
  g_autofree char *token = NULL;

  fx->now += 7 * DAY - MINUTE;
  token = wz_auth_redeem_visit_link (fx->auth, in_time, &session, &error);
  g_assert_no_error (error);
  g_assert_nonnull (token);

  fx->now += 2 * MINUTE;
  assert_refused (fx, late, "expired");
}

static void
test_patient_session_lifetime (Fixture       *fx,
                               gconstpointer  data)
{
  g_autofree char *link = make_link (fx);
  g_autoptr(GError) error = NULL;
  const WzSession *session = NULL;
  g_autofree char *token = wz_auth_redeem_visit_link (fx->auth, link, &session, &error);
  gint64 opened = fx->now;

  g_assert_no_error (error);

  /* Hours in the waiting room without a request: still signed in (no idle timeout)… */
  fx->now = opened + 5 * HOUR;
  g_assert_true (wz_auth_check (fx->auth, token));
  g_assert_nonnull (wz_auth_lookup (fx->auth, token));
  fx->now = opened + DAY - MINUTE;
  g_assert_nonnull (wz_auth_lookup (fx->auth, token));
  /* …but never past a day. */
  fx->now = opened + DAY + MINUTE;
  g_assert_false (wz_auth_check (fx->auth, token));
  g_assert_null (wz_auth_lookup (fx->auth, token));
}

static void
test_logout_revokes (Fixture       *fx,
                     gconstpointer  data)
{
  g_autofree char *link = make_link (fx);
  g_autoptr(GError) error = NULL;
  const WzSession *session = NULL;
  g_autofree char *token = wz_auth_redeem_visit_link (fx->auth, link, &session, &error);

  g_assert_no_error (error);
  wz_auth_logout (fx->auth, token);
  g_assert_null (wz_auth_lookup (fx->auth, token));
  open_auth (fx);
  g_assert_null (wz_auth_lookup (fx->auth, token));
}

static void
test_check_does_not_count_as_use (Fixture       *fx,
                                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const WzSession *session = NULL;
  g_autofree char *token = NULL;

  g_assert_true (wz_auth_add_user (fx->auth, "liwei", "correct horse battery", "doctor", NULL,
                                   "prac-1", &error));
  token = wz_auth_login (fx->auth, "liwei", "correct horse battery", NULL, "test", &session, NULL,
                         &error);
  g_assert_no_error (error);

  /* An open websocket checks its session every minute; that alone must not keep a staff
   * session from timing out after 30 idle minutes. */
  fx->now += 20 * MINUTE;
  g_assert_true (wz_auth_check (fx->auth, token));
  fx->now += 15 * MINUTE;
  g_assert_false (wz_auth_check (fx->auth, token));
  g_assert_false (wz_auth_check (fx->auth, "garbage"));
  g_assert_false (wz_auth_check (fx->auth, NULL));
}

static gboolean
file_contains (const char *path,
               const char *needle)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  gsize needle_length = strlen (needle);

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return FALSE;
  for (gsize i = 0; i + needle_length <= length; i++)
    if (memcmp (contents + i, needle, needle_length) == 0)
      return TRUE;
  return FALSE;
}

static void
test_stored_hashed (Fixture       *fx,
                    gconstpointer  data)
{
  g_autofree char *link = make_link (fx);
  g_autofree char *unused = make_link (fx);
  g_autoptr(GError) error = NULL;
  const WzSession *session = NULL;
  g_autofree char *token = wz_auth_redeem_visit_link (fx->auth, link, &session, &error);
  const char *files[] = { "auth.db", "auth.db-wal" };

  g_assert_no_error (error);
  g_clear_object (&fx->auth);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (fx->dir, files[i], NULL);

      g_assert_false (file_contains (path, link));
      g_assert_false (file_contains (path, unused));
      g_assert_false (file_contains (path, token));
    }

  /* The unused link still works after the restart: the hash is all that is needed. */
  open_auth (fx);
  {
    g_autofree char *second = wz_auth_redeem_visit_link (fx->auth, unused, &session, &error);

    g_assert_no_error (error);
    g_assert_nonnull (second);
  }
}

static void
test_bad_links (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 expires;

  assert_refused (fx, "short", "not valid");
  assert_refused (fx, "", "not valid");
  assert_refused (fx, NULL, "not valid");
  assert_refused (fx, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not valid");
  assert_refused (fx, "!!!!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not valid");

  g_assert_null (wz_auth_create_visit_link (fx->auth, "pat/1", "enc-1", "x", &expires, &error));
  g_assert_error (error, WZ_ERROR, WZ_ERROR_INVALID);
}

typedef struct
{
  Fixture    *fx;
  const char *link;
  guint       won;
} Race;

static gpointer
race_thread (gpointer data)
{
  Race *race = data;
  const WzSession *session = NULL;
  g_autofree char *token = wz_auth_redeem_visit_link (race->fx->auth, race->link, &session, NULL);

  if (token != NULL)
    g_atomic_int_inc (&race->won);
  return NULL;
}

static void
test_race (Fixture       *fx,
           gconstpointer  data)
{
  g_autofree char *link = make_link (fx);
  Race race = { fx, link, 0 };
  GThread *threads[8];

  /* Two tabs, a double tap: one session, however the requests interleave. */
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("redeem", race_thread, &race);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  g_assert_cmpuint (race.won, ==, 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/visit-link/single-use", test_single_use);
  ADD ("/visit-link/expiry", test_expiry);
  ADD ("/visit-link/patient-session-lifetime", test_patient_session_lifetime);
  ADD ("/visit-link/logout-revokes", test_logout_revokes);
  ADD ("/visit-link/check-does-not-count-as-use", test_check_does_not_count_as_use);
  ADD ("/visit-link/stored-hashed", test_stored_hashed);
  ADD ("/visit-link/bad-links", test_bad_links);
  ADD ("/visit-link/race", test_race);

#undef ADD

  return g_test_run ();
}
