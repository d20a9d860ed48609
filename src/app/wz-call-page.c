/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "wz-call-page"

#include "config.h"

#include "wz-call-page.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "wz-call.h"
#include "wz-call-record.h"
#include "wz-device-monitor.h"
#include "wz-preferences-window.h"
#include "wz-test-report.h"

/* How long the patient's page rings before we give up. */
#define NO_ANSWER_SECONDS 45
/* How long signing out or quitting waits for the call's record to reach the visit. */
#define RECORD_WAIT_SECONDS 5

/* The Call page: a video call with the patient of the open visit. It owns at most one WzCall
 * and is its only link to the server: it feeds the call the signaling frames WzRealtime
 * receives (offer, answer, ice, hangup) and sends what the call hands out. What the page shows
 * follows the call's state and nothing else. A call keeps running while the doctor reads the
 * chat or the record; leaving the visit, signing out or quitting hangs it up. */
struct _WzCallPage
{
  GtkWidget       parent_instance;

  GtkStack       *stack;
  AdwStatusPage  *idle_page;
  GtkWidget      *start_button;
  GtkLabel       *idle_reason;
  GtkWidget      *camera_note;
  GtkLabel       *camera_note_label;
  GtkLabel       *history_label;
  AdwStatusPage  *outgoing_page;
  GtkSpinner     *outgoing_spinner;
  AdwStatusPage  *ringing_page;
  GtkWidget      *accept_button;
  GtkPicture     *remote_picture;
  GtkWidget      *connecting_box;
  GtkSpinner     *connecting_spinner;
  GtkLabel       *connecting_label;
  GtkLabel       *timer_label;
  GtkMenuButton  *quality_button;
  GtkImage       *quality_icon;
  GtkLabel       *quality_label;
  GtkLabel       *peer_label;
  GtkRevealer    *reconnecting_revealer;
  GtkSpinner     *reconnecting_spinner;
  GtkRevealer    *problem_revealer;
  GtkLabel       *problem_label;
  GtkWidget      *self_view;
  GtkPicture     *local_picture;
  GtkWidget      *camera_off_icon;
  GtkButton      *mute_button;
  GtkButton      *camera_button;
  GtkButton      *fullscreen_button;
  GtkWidget      *hangup_button;
  GtkWidget      *controls;
  AdwStatusPage  *ended_page;
  GtkWidget      *settings_button;
  GtkWidget      *again_button;
  GtkLabel       *quality_summary;
  GtkLabel       *stat_in;
  GtkLabel       *stat_out;
  GtkLabel       *stat_loss;
  GtkLabel       *stat_rtt;
  GtkLabel       *stat_jitter;

  GSettings      *settings;
  WzApiClient    *client;
  WzRealtime     *realtime;
  WzQueueModel   *queue;
  WzQueueItem    *item;
  GListModel     *cameras;

  WzCall         *call;
  char           *call_name;
  gboolean        record_started;
  guint          *records_saving;   /* shared with the saves, which may outlive the page */
  GCancellable   *history_cancellable;
  guint64         remote_frames;
  guint           timer_id;
  guint           no_answer_id;
  gboolean        no_answer;
  char           *dismissed_problem;
  char           *summary;
  GtkMediaStream *ring;
  gboolean        notified;
  /* Whether the open visit's patient has their visit page open (server presence). */
  enum { PRESENCE_UNKNOWN, PRESENCE_ONLINE, PRESENCE_OFFLINE } presence;

  gboolean        muted;
  gboolean        camera_off;
  gboolean        fullscreen;
};

G_DEFINE_FINAL_TYPE (WzCallPage, wz_call_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ACTIVE,
  PROP_SUMMARY,
  PROP_MUTED,
  PROP_CAMERA_OFF,
  PROP_FULLSCREEN,
  N_PROPS
};

enum {
  SHOW_ENCOUNTER,
  TOAST,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void update_view (WzCallPage *self);
static void load_history (WzCallPage *self);
static void report_view (WzCallPage *self);
static void drop_call (WzCallPage *self);

static gboolean
is_settled (GtkWidget *widget)
{
  return !gtk_stack_get_transition_running (WZ_CALL_PAGE (widget)->stack);
}

static gboolean
state_is_active (WzCallState state)
{
  return state == WZ_CALL_RINGING || state == WZ_CALL_OUTGOING || state == WZ_CALL_CONNECTING
         || state == WZ_CALL_CONNECTED || state == WZ_CALL_RECONNECTING;
}

static WzCallState
call_state (WzCallPage *self)
{
  return self->call != NULL ? wz_call_get_state (self->call) : WZ_CALL_IDLE;
}

gboolean
wz_call_page_get_active (WzCallPage *self)
{
  g_return_val_if_fail (WZ_IS_CALL_PAGE (self), FALSE);

  return state_is_active (call_state (self));
}

gboolean
wz_call_page_get_ringing (WzCallPage *self)
{
  g_return_val_if_fail (WZ_IS_CALL_PAGE (self), FALSE);

  return call_state (self) == WZ_CALL_RINGING;
}

const char *
wz_call_page_get_summary (WzCallPage *self)
{
  g_return_val_if_fail (WZ_IS_CALL_PAGE (self), NULL);

  return self->summary;
}

gboolean
wz_call_page_get_fullscreen (WzCallPage *self)
{
  g_return_val_if_fail (WZ_IS_CALL_PAGE (self), FALSE);

  return self->fullscreen;
}

/* "Encounter/ID" → "ID" */
static const char *
encounter_id_of (const char *reference)
{
  if (reference != NULL && g_str_has_prefix (reference, "Encounter/"))
    return reference + strlen ("Encounter/");
  return reference;
}

static char *
format_duration (guint seconds)
{
  if (seconds >= 3600)
    return g_strdup_printf ("%u:%02u:%02u", seconds / 3600, seconds / 60 % 60, seconds % 60);
  return g_strdup_printf ("%u:%02u", seconds / 60, seconds % 60);
}

/* ---------------------------------------------------------------------------------------- */
/* Full screen */

static void
wz_call_page_set_fullscreen (WzCallPage *self,
                             gboolean    fullscreen)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  fullscreen = !!fullscreen && wz_call_page_get_active (self);
  if (self->fullscreen == fullscreen)
    return;

  self->fullscreen = fullscreen;
  if (GTK_IS_WINDOW (root))
    {
      if (fullscreen)
        gtk_window_fullscreen (GTK_WINDOW (root));
      else
        gtk_window_unfullscreen (GTK_WINDOW (root));
    }

  gtk_button_set_icon_name (self->fullscreen_button,
                            fullscreen ? "view-restore-symbolic" : "view-fullscreen-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->fullscreen_button),
                               fullscreen ? _("Leave Full Screen (F11 or Esc)") : _("Full Screen (F11)"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "call.leave-fullscreen", fullscreen);
  /* The queue and its search go out of sight; the keyboard stays with the call's controls. */
  if (fullscreen)
    gtk_widget_grab_focus (GTK_WIDGET (self->fullscreen_button));
  wz_test_report ("call-fullscreen=%s", fullscreen ? "yes" : "no");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FULLSCREEN]);
}

/* The window manager may end full screen by itself (another shortcut, a workspace switch). */
static void
on_window_fullscreened (WzCallPage *self,
                        GParamSpec *pspec,
                        GtkWindow  *window)
{
  if (self->fullscreen && !gtk_window_is_fullscreen (window))
    wz_call_page_set_fullscreen (self, FALSE);
}

/* ---------------------------------------------------------------------------------------- */
/* Ringing: sound and notification */

static void
stop_ringing (WzCallPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GApplication *app = GTK_IS_WINDOW (root)
                      ? G_APPLICATION (gtk_window_get_application (GTK_WINDOW (root))) : NULL;

  if (self->ring != NULL && gtk_media_stream_get_playing (self->ring))
    {
      gtk_media_stream_pause (self->ring);
      gtk_media_stream_seek (self->ring, 0);
      wz_test_report ("call-ring=stopped");
    }
  if (app != NULL && self->call != NULL && self->notified)
    {
      g_autofree char *id = g_strconcat ("call-", wz_call_get_id (self->call), NULL);

      g_application_withdraw_notification (app, id);
      self->notified = FALSE;
    }
}

static void
on_notification_accept (GSimpleAction *action,
                        GVariant      *parameter,
                        WzCallPage    *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->call == NULL || g_strcmp0 (g_variant_get_string (parameter, NULL),
                                       wz_call_get_id (self->call)) != 0)
    return;

  if (GTK_IS_WINDOW (root))
    gtk_window_present (GTK_WINDOW (root));
  gtk_widget_activate_action (GTK_WIDGET (self), "call.accept", NULL);
}

static void
on_notification_decline (GSimpleAction *action,
                         GVariant      *parameter,
                         WzCallPage    *self)
{
  if (self->call == NULL || g_strcmp0 (g_variant_get_string (parameter, NULL),
                                       wz_call_get_id (self->call)) != 0)
    return;

  gtk_widget_activate_action (GTK_WIDGET (self), "call.decline", NULL);
}

/* The notification's buttons reach the app through application actions. */
static void
ensure_app_actions (WzCallPage   *self,
                    GApplication *app)
{
  static const struct
  {
    const char *name;
    GCallback   callback;
  } actions[] = {
    { "call-accept", G_CALLBACK (on_notification_accept) },
    { "call-decline", G_CALLBACK (on_notification_decline) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      g_autoptr(GSimpleAction) action = NULL;

      if (g_action_map_lookup_action (G_ACTION_MAP (app), actions[i].name) != NULL)
        continue;
      action = g_simple_action_new (actions[i].name, G_VARIANT_TYPE_STRING);
      g_signal_connect_object (action, "activate", actions[i].callback, self, 0);
      g_action_map_add_action (G_ACTION_MAP (app), G_ACTION (action));
    }
}

static void
start_ringing (WzCallPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *body = NULL;
  g_autofree char *id = NULL;
  GApplication *app;

  if (self->ring == NULL)
    {
      self->ring = gtk_media_file_new_for_resource ("/io/github/wenzhen/Wenzhen/wz-call-page-ring.ogg");
      gtk_media_stream_set_loop (self->ring, TRUE);
    }
  gtk_media_stream_play (self->ring);
  wz_test_report ("call-ring=playing");

  if (!GTK_IS_WINDOW (root) || gtk_window_is_active (GTK_WINDOW (root)))
    return;
  app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (root)));
  if (app == NULL)
    return;

  ensure_app_actions (self, app);
  /* Translators: notification title when a patient calls the doctor; %s is the patient's name */
  body = g_strdup_printf (_("%s is calling you for a video consultation."), self->call_name);
  notification = g_notification_new (_("Incoming Video Call"));
  g_notification_set_body (notification, body);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_URGENT);
  g_notification_set_default_action_and_target (notification, "app.call-accept", "s",
                                                wz_call_get_id (self->call));
  g_notification_add_button_with_target (notification, _("Decline"), "app.call-decline", "s",
                                         wz_call_get_id (self->call));
  g_notification_add_button_with_target (notification, _("Accept"), "app.call-accept", "s",
                                         wz_call_get_id (self->call));
  id = g_strconcat ("call-", wz_call_get_id (self->call), NULL);
  g_application_send_notification (app, id, notification);
  self->notified = TRUE;
  wz_test_report ("notification=call encounter=%s",
                  encounter_id_of (wz_call_get_encounter (self->call)));
}

/* ---------------------------------------------------------------------------------------- */
/* What the page shows */

static void
set_summary (WzCallPage *self,
             const char *summary)
{
  if (g_strcmp0 (self->summary, summary) == 0)
    return;

  g_free (self->summary);
  self->summary = g_strdup (summary);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUMMARY]);
}

static void
update_timer (WzCallPage *self)
{
  g_autofree char *text = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *accessible = NULL;
  WzCallState state = call_state (self);

  if (self->call == NULL)
    {
      set_summary (self, NULL);
      return;
    }

  text = format_duration (wz_call_get_duration (self->call));
  gtk_label_set_text (self->timer_label, text);
  /* Translators: accessible name of the call timer; %s is e.g. “3:05” */
  accessible = g_strdup_printf (_("Call time %s"), text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->timer_label),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible, -1);

  if (state == WZ_CALL_RINGING)
    /* Translators: the banner that leads back to a ringing call; %s is the patient's name */
    summary = g_strdup_printf (_("%s is calling"), self->call_name);
  else if (state == WZ_CALL_OUTGOING || state == WZ_CALL_CONNECTING)
    /* Translators: the banner that leads back to the call page; %s is the patient's name */
    summary = g_strdup_printf (_("Calling %s…"), self->call_name);
  else if (state_is_active (state))
    /* Translators: the banner that leads back to the call: patient's name · call time */
    summary = g_strdup_printf (_("Video call with %s · %s"), self->call_name, text);
  set_summary (self, summary);
}

static gboolean
on_timer (gpointer user_data)
{
  update_timer (WZ_CALL_PAGE (user_data));

  return G_SOURCE_CONTINUE;
}

static void
update_quality (WzCallPage *self)
{
  const WzCallStats *stats = self->call != NULL ? wz_call_get_stats (self->call) : NULL;
  WzCallQuality quality = self->call != NULL ? wz_call_get_quality (self->call)
                                             : WZ_CALL_QUALITY_UNKNOWN;
  const char *icon;
  const char *label;
  const char *summary;
  g_autofree char *in = NULL;
  g_autofree char *out = NULL;
  g_autofree char *loss = NULL;
  g_autofree char *rtt = NULL;
  g_autofree char *jitter = NULL;
  g_autofree char *accessible = NULL;

  switch (quality)
    {
    case WZ_CALL_QUALITY_GOOD:
      icon = "network-cellular-signal-excellent-symbolic";
      /* Translators: network quality of a call */
      label = C_("call quality", "Good");
      summary = _("The connection is good.");
      break;
    case WZ_CALL_QUALITY_FAIR:
      icon = "network-cellular-signal-ok-symbolic";
      label = C_("call quality", "Fair");
      summary = _("The connection is fair: the picture may stutter now and then.");
      break;
    case WZ_CALL_QUALITY_POOR:
      icon = "network-cellular-signal-weak-symbolic";
      label = C_("call quality", "Poor");
      summary = _("The connection is poor: expect frozen pictures and broken sound. Closing other programs that use the network may help.");
      break;
    case WZ_CALL_QUALITY_UNKNOWN:
    default:
      icon = "network-cellular-signal-none-symbolic";
      label = C_("call quality", "Measuring…");
      summary = _("The connection is being measured.");
      break;
    }

  gtk_image_set_from_icon_name (self->quality_icon, icon);
  gtk_label_set_text (self->quality_label, label);
  gtk_label_set_text (self->quality_summary, summary);
  /* Translators: accessible name and tooltip of the call's network indicator; %s is e.g. “Good” */
  accessible = g_strdup_printf (_("Connection quality: %s. Show the figures"), label);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->quality_button), accessible);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->quality_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible, -1);

  if (stats == NULL)
    return;

  /* Translators: a data rate of a call in kilobits per second */
  in = g_strdup_printf (_("%.0f kbit/s"), stats->bitrate_in_kbps);
  out = g_strdup_printf (_("%.0f kbit/s"), stats->bitrate_out_kbps);
  /* Translators: packet loss of a call in per cent */
  loss = g_strdup_printf (_("%.1f %%"), stats->loss_percent);
  /* Translators: a time in milliseconds; “—” when it is not known yet */
  rtt = stats->rtt_ms >= 0 ? g_strdup_printf (_("%.0f ms"), stats->rtt_ms) : g_strdup ("—");
  jitter = g_strdup_printf (_("%.0f ms"), stats->jitter_ms);
  gtk_label_set_text (self->stat_in, in);
  gtk_label_set_text (self->stat_out, out);
  gtk_label_set_text (self->stat_loss, loss);
  gtk_label_set_text (self->stat_rtt, rtt);
  gtk_label_set_text (self->stat_jitter, jitter);
}

static void
update_problem (WzCallPage *self)
{
  const char *problem = self->call != NULL ? wz_call_get_problem (self->call) : NULL;
  gboolean show = problem != NULL && g_strcmp0 (problem, self->dismissed_problem) != 0;

  if (problem != NULL)
    gtk_label_set_text (self->problem_label, problem);
  gtk_revealer_set_reveal_child (self->problem_revealer, show);
}

static void
update_idle (WzCallPage *self)
{
  WzQueueStatus status = self->item != NULL ? wz_queue_item_get_status (self->item)
                                            : WZ_QUEUE_STATUS_NONE;
  gboolean offline = self->realtime == NULL
                     || wz_realtime_get_state (self->realtime) != WZ_REALTIME_CONNECTED;
  const char *reason = NULL;
  g_autofree char *description = NULL;
  g_autofree char *reasons = NULL;
  gboolean can_start;

  if (self->item == NULL)
    {
      adw_status_page_set_title (self->idle_page, _("Video Call"));
      adw_status_page_set_description (self->idle_page,
                                       _("Select a patient to call them. Video calls run directly between you and the patient, encrypted end to end."));
      gtk_widget_set_visible (self->start_button, FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->idle_reason), FALSE);
      gtk_widget_set_visible (self->camera_note, FALSE);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "call.start", FALSE);
      return;
    }

  if (status == WZ_QUEUE_STATUS_WAITING)
    reason = _("Start the consultation first: a call is possible while the visit is in progress.");
  else if (status != WZ_QUEUE_STATUS_IN_CONSULTATION)
    reason = _("This visit is over. Calls are possible only while a visit is in progress.");
  else if (offline)
    reason = _("Wenzhen is not connected to the server. You can call once the connection is back.");
  can_start = reason == NULL && !wz_call_page_get_active (self);
  /* Not a reason against calling: it rings as soon as the page is opened. Said before the
   * consultation starts too, so the link can be sent while the patient still waits. */
  if (self->presence == PRESENCE_OFFLINE && reason == NULL)
    reason = _("The patient’s visit page is not open — send them the visit link. You can still call; it rings once they open it.");
  else if (self->presence == PRESENCE_OFFLINE && status == WZ_QUEUE_STATUS_WAITING)
    reason = reasons = g_strconcat (reason, " ", _("The patient’s visit page is not open yet — send them the visit link."), NULL);

  /* Translators: %s is the patient's name */
  description = g_strdup_printf (_("%s sees your call on their visit page and answers there. The call runs directly between you, encrypted end to end."),
                                 wz_queue_item_get_name (self->item));
  adw_status_page_set_title (self->idle_page, _("Video Call"));
  adw_status_page_set_description (self->idle_page, description);
  gtk_widget_set_visible (self->start_button, TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "call.start", can_start);
  gtk_label_set_text (self->idle_reason, reason != NULL ? reason : "");
  gtk_widget_set_visible (GTK_WIDGET (self->idle_reason), reason != NULL);
  if (reason != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->start_button),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, reason, -1);
  else
    gtk_accessible_reset_property (GTK_ACCESSIBLE (self->start_button),
                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);

  /* Said before the call, not discovered in it. */
  gtk_label_set_text (self->camera_note_label,
                      _("No camera found. The patient will see a moving test picture instead of you; they still hear you."));
  gtk_widget_set_visible (self->camera_note, g_list_model_get_n_items (self->cameras) == 0);
}

static void
update_ended (WzCallPage *self)
{
  WzCallState state = call_state (self);
  const char *by = wz_call_get_ended_by (self->call);
  const char *reason = wz_call_get_end_reason (self->call);
  const char *problem = wz_call_get_problem (self->call);
  guint duration = wz_call_get_duration (self->call);
  g_autofree char *length = format_duration (duration);
  g_autofree char *description = NULL;
  const char *title;
  gboolean can_again;

  if (state == WZ_CALL_FAILED)
    {
      title = _("Call Failed");
      description = g_strdup (problem != NULL ? problem
                                              : _("The call could not be connected. Try again; if it keeps failing, check the call settings."));
    }
  else if (self->no_answer)
    {
      title = _("No Answer");
      /* Translators: %s is the patient's name */
      description = g_strdup_printf (_("%s did not answer. Their visit page may be closed; ask them in the chat to open it, then call again."),
                                     self->call_name);
    }
  else if (g_strcmp0 (reason, "declined") == 0 && g_strcmp0 (by, "remote") == 0)
    {
      title = _("Call Declined");
      description = g_strdup_printf (_("%s declined the call."), self->call_name);
    }
  else if (g_strcmp0 (reason, "busy") == 0 && g_strcmp0 (by, "remote") == 0)
    {
      title = _("Line Busy");
      description = g_strdup_printf (_("%s is in another call. Try again in a moment."),
                                     self->call_name);
    }
  else if (g_strcmp0 (reason, "camera-refused") == 0)
    {
      title = _("Call Ended");
      description = g_strdup (problem != NULL ? problem
                                              : _("The patient's browser did not allow the camera. Ask them to allow camera access for the visit page, then call again."));
    }
  else if (g_strcmp0 (reason, "declined") == 0)
    {
      title = _("Call Declined");
      description = g_strdup_printf (_("You declined the call from %s."), self->call_name);
    }
  else if (wz_call_get_started_at (self->call) == 0)
    {
      gboolean was_incoming = !wz_call_get_is_caller (self->call);

      title = was_incoming && g_strcmp0 (by, "remote") == 0 ? _("Missed Call") : _("Call Cancelled");
      if (was_incoming && g_strcmp0 (by, "remote") == 0)
        description = g_strdup_printf (_("%s hung up before you answered."), self->call_name);
      else if (g_strcmp0 (by, "remote") == 0)
        description = g_strdup_printf (_("%s hung up before the call was connected."), self->call_name);
      else
        description = g_strdup (_("You cancelled the call."));
    }
  else
    {
      title = _("Call Ended");
      if (g_strcmp0 (by, "remote") == 0)
        /* Translators: %1$s is the patient's name, %2$s the call's length, e.g. “12:05” */
        description = g_strdup_printf (_("%1$s ended the call after %2$s."), self->call_name, length);
      else
        /* Translators: %s is the call's length, e.g. “12:05” */
        description = g_strdup_printf (_("You ended the call after %s."), length);
    }

  adw_status_page_set_title (self->ended_page, title);
  adw_status_page_set_description (self->ended_page, description);
  adw_status_page_set_icon_name (self->ended_page, state == WZ_CALL_FAILED ? "network-error-symbolic"
                                                                          : "call-stop-symbolic");
  /* A failure is often the network path: the settings are one click away. */
  gtk_widget_set_visible (self->settings_button, state == WZ_CALL_FAILED);
  can_again = self->item != NULL
              && g_strcmp0 (wz_queue_item_get_encounter_id (self->item),
                            encounter_id_of (wz_call_get_encounter (self->call))) == 0
              && wz_queue_item_get_status (self->item) == WZ_QUEUE_STATUS_IN_CONSULTATION;
  gtk_widget_set_visible (self->again_button, can_again);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "call.start", can_again);
}

static void
update_controls (WzCallPage *self)
{
  gtk_button_set_icon_name (self->mute_button, self->muted ? "microphone-sensitivity-muted-symbolic"
                                                           : "audio-input-microphone-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->mute_button),
                               self->muted ? _("Unmute Microphone (Ctrl+D)") : _("Mute Microphone (Ctrl+D)"));
  gtk_button_set_icon_name (self->camera_button, self->camera_off ? "camera-disabled-symbolic"
                                                                  : "camera-web-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->camera_button),
                               self->camera_off ? _("Turn Camera On (Ctrl+E)") : _("Turn Camera Off (Ctrl+E)"));
  gtk_widget_set_visible (GTK_WIDGET (self->local_picture), !self->camera_off);
  gtk_widget_set_visible (self->camera_off_icon, self->camera_off);
}

static const char *
state_nick (WzCallState state)
{
  switch (state)
    {
    case WZ_CALL_IDLE: return "idle";
    case WZ_CALL_RINGING: return "ringing";
    case WZ_CALL_OUTGOING: return "outgoing";
    case WZ_CALL_CONNECTING: return "connecting";
    case WZ_CALL_CONNECTED: return "connected";
    case WZ_CALL_RECONNECTING: return "reconnecting";
    case WZ_CALL_ENDED: return "ended";
    case WZ_CALL_FAILED: return "failed";
    default: return "unknown";
    }
}

static void
update_view (WzCallPage *self)
{
  WzCallState state = call_state (self);
  const char *page;
  gboolean active = state_is_active (state);
  gboolean in_call = state == WZ_CALL_CONNECTING || state == WZ_CALL_CONNECTED
                     || state == WZ_CALL_RECONNECTING;

  switch (state)
    {
    case WZ_CALL_RINGING:
      page = "ringing";
      /* Translators: title while a patient calls; %s is the patient's name */
      {
        g_autofree char *title = g_strdup_printf (_("%s Is Calling"), self->call_name);

        adw_status_page_set_title (self->ringing_page, title);
        adw_status_page_set_description (self->ringing_page,
                                         _("A video call from the patient's visit page. Accept to see and hear each other."));
      }
      break;
    case WZ_CALL_OUTGOING:
      page = "outgoing";
      {
        /* Translators: %s is the patient's name */
        g_autofree char *description = g_strdup_printf (self->presence == PRESENCE_OFFLINE
                                                        ? _("%s’s visit page is not open, so it cannot ring yet — send them the visit link. It rings as soon as they open it.")
                                                        : _("Waiting for %s to answer on their visit page."),
                                                        self->call_name);

        adw_status_page_set_description (self->outgoing_page, description);
      }
      break;
    case WZ_CALL_CONNECTING:
    case WZ_CALL_CONNECTED:
    case WZ_CALL_RECONNECTING:
      page = "call";
      break;
    case WZ_CALL_ENDED:
    case WZ_CALL_FAILED:
      page = "ended";
      update_ended (self);
      break;
    case WZ_CALL_IDLE:
    default:
      page = "idle";
      break;
    }

  if (!active || state == WZ_CALL_RINGING)
    update_idle (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "call.accept", state == WZ_CALL_RINGING);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "call.decline", state == WZ_CALL_RINGING);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "call.hangup",
                                 active && state != WZ_CALL_RINGING);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "call.muted", in_call);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "call.camera-off", in_call);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "call.fullscreen", in_call);
  if (active && state != WZ_CALL_RINGING)
    gtk_widget_action_set_enabled (GTK_WIDGET (self), "call.start", FALSE);

  gtk_spinner_set_spinning (self->outgoing_spinner, state == WZ_CALL_OUTGOING);
  gtk_widget_set_visible (self->connecting_box, state == WZ_CALL_CONNECTING
                                                || (in_call && self->remote_frames == 0));
  gtk_spinner_set_spinning (self->connecting_spinner, gtk_widget_get_visible (self->connecting_box));
  gtk_label_set_text (self->connecting_label, state == WZ_CALL_CONNECTING
                                              ? _("Connecting…") : _("Waiting for the patient's picture…"));
  gtk_revealer_set_reveal_child (self->reconnecting_revealer, state == WZ_CALL_RECONNECTING);
  gtk_spinner_set_spinning (self->reconnecting_spinner, state == WZ_CALL_RECONNECTING);
  gtk_label_set_text (self->peer_label, self->call_name != NULL ? self->call_name : "");
  update_problem (self);
  update_controls (self);
  update_timer (self);
  update_quality (self);

  if (state != WZ_CALL_RINGING)
    stop_ringing (self);
  if (!in_call)
    wz_call_page_set_fullscreen (self, FALSE);
  if (in_call && self->timer_id == 0)
    self->timer_id = g_timeout_add_seconds (1, on_timer, self);
  else if (!in_call)
    g_clear_handle_id (&self->timer_id, g_source_remove);
  if (state != WZ_CALL_OUTGOING)
    g_clear_handle_id (&self->no_answer_id, g_source_remove);

  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), page) != 0)
    gtk_stack_set_visible_child_name (self->stack, page);

  report_view (self);
}

/* Test seam: what the page shows, once it is on screen. */
static void
report_view (WzCallPage *self)
{
  const char *page = gtk_stack_get_visible_child_name (self->stack);
  WzCallState state = call_state (self);

  if (!wz_test_report_enabled () || page == NULL)
    return;
  if (g_str_equal (page, "idle"))
    wz_test_report_when_settled (GTK_WIDGET (self), is_settled,
                                 "call-page=idle encounter=%s can-start=%s camera=%s reason=%s",
                                 self->item != NULL ? wz_queue_item_get_encounter_id (self->item) : "",
                                 gtk_widget_get_visible (self->start_button)
                                 && gtk_widget_is_sensitive (self->start_button) ? "yes" : "no",
                                 gtk_widget_get_visible (self->camera_note) ? "none" : "present",
                                 gtk_label_get_text (self->idle_reason));
  else
    wz_test_report_when_settled (GTK_WIDGET (self), is_settled,
                                 "call-page=%s state=%s title=%s",
                                 page, state_nick (state),
                                 g_str_equal (page, "ended") ? adw_status_page_get_title (self->ended_page)
                                 : g_str_equal (page, "ringing") ? adw_status_page_get_title (self->ringing_page)
                                 : "");
}

/* The self view takes a fifth of the video's width (4:3), bottom right; when the window is so
 * narrow that it would cover the controls, it moves up above them. */
static gboolean
on_get_child_position (GtkOverlay   *overlay,
                       GtkWidget    *child,
                       GdkRectangle *allocation,
                       WzCallPage   *self)
{
  int width = gtk_widget_get_width (GTK_WIDGET (overlay));
  int height = gtk_widget_get_height (GTK_WIDGET (overlay));
  int controls_width;
  int controls_height;
  int margin = 16;

  if (child != self->self_view)
    return FALSE;

  gtk_widget_measure (self->controls, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &controls_width,
                      NULL, NULL);
  gtk_widget_measure (self->controls, GTK_ORIENTATION_VERTICAL, -1, NULL, &controls_height,
                      NULL, NULL);

  allocation->width = CLAMP (width / 5, 96, 240);
  allocation->height = allocation->width * 3 / 4;
  allocation->x = MAX (0, width - allocation->width - margin);
  allocation->y = MAX (0, height - allocation->height - margin);
  if (allocation->x < (width + controls_width) / 2 + margin)
    allocation->y = MAX (0, allocation->y - controls_height - margin);

  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* The call */

/* ---------------------------------------------------------------------------------------- */
/* The call's record in the visit */

/* A save in flight: the page may be gone when it finishes (closing the window), so the count
 * of saves the page waits for is shared rather than reached through the page. */
typedef struct
{
  GWeakRef  page;
  guint    *records_saving;
} RecordSave;

static void
record_save_free (RecordSave *save)
{
  g_weak_ref_clear (&save->page);
  g_rc_box_release (save->records_saving);
  g_free (save);
}

static void
on_record_saved (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  RecordSave *save = user_data;
  g_autoptr(WzCallPage) self = g_weak_ref_get (&save->page);
  g_autoptr(GError) error = NULL;
  gboolean saved = wz_call_record_save_finish (result, &error);

  (*save->records_saving)--;
  record_save_free (save);

  if (!saved)
    g_message ("The video call was not recorded in the visit: %s", error->message);
  if (self == NULL)
    return;

  if (saved)
    {
      wz_test_report ("call-record=saved");
      load_history (self);
      return;
    }
  wz_test_report ("call-record=failed error=%s", error->message);
  g_signal_emit (self, signals[TOAST], 0,
                 _("The video call could not be added to the visit record. The call itself was not affected."));
}

/* Once per call, when it is over: its times and who ended it go into the visit. */
static void
save_record (WzCallPage *self)
{
  RecordSave *save;

  if (self->record_started || self->client == NULL
      || wz_api_client_get_session (self->client) == NULL)
    return;
  self->record_started = TRUE;

  save = g_new0 (RecordSave, 1);
  g_weak_ref_init (&save->page, self);
  save->records_saving = g_rc_box_acquire (self->records_saving);
  (*self->records_saving)++;
  wz_call_record_save_async (self->client, self->call, NULL, on_record_saved, save);
}

static const char *
member_string (JsonArray  *members,
               const char *url,
               const char *value_key)
{
  for (guint i = 0; i < json_array_get_length (members); i++)
    {
      JsonObject *member = json_array_get_object_element (members, i);
      JsonNode *value;

      if (member == NULL || g_strcmp0 (json_object_get_string_member_with_default (member, "url", NULL), url) != 0)
        continue;
      value = json_object_get_member (member, value_key);
      if (value == NULL)
        return NULL;
      if (JSON_NODE_HOLDS_OBJECT (value))
        return json_object_get_string_member_with_default (json_node_get_object (value),
                                                           "reference", NULL);
      if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
        return json_node_get_string (value);
      return NULL;
    }
  return NULL;
}

static char *
local_time_of (const char *instant)
{
  g_autoptr(GDateTime) time = instant != NULL ? g_date_time_new_from_iso8601 (instant, NULL) : NULL;
  g_autoptr(GDateTime) local = time != NULL ? g_date_time_to_local (time) : NULL;

  return local != NULL ? g_date_time_format (local, "%H:%M") : g_strdup ("?");
}

/* One recorded call in plain words: “Video call 10:02–10:14, 12 min, ended by the patient”. */
static char *
describe_record (WzCallPage *self,
                 JsonArray  *members)
{
  WzSession *session = wz_api_client_get_session (self->client);
  const char *start = member_string (members, "start", "valueDateTime");
  const char *by = member_string (members, "endedBy", "valueReference");
  const char *reason = member_string (members, "endReason", "valueCode");
  g_autofree char *from = local_time_of (start);
  g_autofree char *to = local_time_of (member_string (members, "end", "valueDateTime"));
  g_autofree char *length = NULL;
  gboolean by_patient = by != NULL && g_str_has_prefix (by, "Patient/");
  gboolean by_me = by != NULL && session != NULL
                   && g_strcmp0 (by, wz_session_get_practitioner (session)) == 0;
  gint64 seconds = 0;

  if (start == NULL)
    {
      if (g_strcmp0 (reason, "declined") == 0 && by_patient)
        /* Translators: %s is a time of day, e.g. “10:02” */
        return g_strdup_printf (_("Video call at %s, declined by the patient"), to);
      if (g_strcmp0 (reason, "declined") == 0)
        return g_strdup_printf (_("Video call at %s, declined"), to);
      /* Translators: %s is a time of day, e.g. “10:02” */
      return g_strdup_printf (_("Video call at %s, not connected"), to);
    }

  for (guint i = 0; i < json_array_get_length (members); i++)
    {
      JsonObject *member = json_array_get_object_element (members, i);

      if (member != NULL && g_strcmp0 (json_object_get_string_member_with_default (member, "url", NULL), "duration") == 0
          && json_object_has_member (member, "valueDuration"))
        seconds = json_object_get_int_member_with_default (
          json_object_get_object_member (member, "valueDuration"), "value", 0);
    }
  /* Translators: a call's length in whole minutes (a call under a minute counts as one) */
  length = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u min", "%u min",
                                         (gulong) MAX (1, (seconds + 30) / 60)),
                            (guint) MAX (1, (seconds + 30) / 60));
  if (by_patient)
    /* Translators: %1$s–%2$s are times of day, %3$s the length, e.g. “12 min” */
    return g_strdup_printf (_("Video call %1$s–%2$s, %3$s, ended by the patient"), from, to, length);
  if (by_me)
    /* Translators: %1$s–%2$s are times of day, %3$s the length, e.g. “12 min” */
    return g_strdup_printf (_("Video call %1$s–%2$s, %3$s, ended by you"), from, to, length);
  if (by != NULL)
    /* Translators: %1$s–%2$s are times of day, %3$s the length, e.g. “12 min” */
    return g_strdup_printf (_("Video call %1$s–%2$s, %3$s, ended by another doctor"), from, to, length);
  /* Translators: %1$s–%2$s are times of day, %3$s the length, e.g. “12 min”; nobody hung up
   * (the connection was lost) */
  return g_strdup_printf (_("Video call %1$s–%2$s, %3$s, connection lost"), from, to, length);
}

static void
on_history_loaded (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(WzCallPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = wz_api_client_get_json_finish (WZ_API_CLIENT (object), result, &error);
  g_autoptr(GString) text = g_string_new (NULL);
  JsonObject *encounter;
  JsonArray *extensions;
  guint n_calls = 0;

  if (node == NULL)
    {
      /* The history is a reminder; the visit's record pane is where errors are shown. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Could not read the visit's calls: %s", error->message);
      return;
    }
  encounter = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  extensions = encounter != NULL && json_object_has_member (encounter, "extension")
               ? json_object_get_array_member (encounter, "extension") : NULL;
  for (guint i = 0; extensions != NULL && i < json_array_get_length (extensions); i++)
    {
      JsonObject *extension = json_array_get_object_element (extensions, i);
      g_autofree char *line = NULL;

      if (extension == NULL
          || g_strcmp0 (json_object_get_string_member_with_default (extension, "url", NULL),
                        WZ_CALL_RECORD_URL) != 0
          || !json_object_has_member (extension, "extension"))
        continue;
      line = describe_record (self, json_object_get_array_member (extension, "extension"));
      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append (text, line);
      n_calls++;
    }

  gtk_label_set_text (self->history_label, text->str);
  gtk_widget_set_visible (GTK_WIDGET (self->history_label), n_calls > 0);
  if (wz_test_report_enabled ())
    {
      g_autofree char *flat = g_strdup (text->str);

      g_strdelimit (flat, "\n", '|');
      wz_test_report ("call-history encounter=%s calls=%u text=%s",
                      json_object_get_string_member_with_default (encounter, "id", ""), n_calls, flat);
    }
}

/* The visit's recorded calls, read again when the visit changes and after each record. */
static void
load_history (WzCallPage *self)
{
  g_autofree char *path = NULL;

  g_cancellable_cancel (self->history_cancellable);
  g_clear_object (&self->history_cancellable);
  gtk_widget_set_visible (GTK_WIDGET (self->history_label), FALSE);
  if (self->item == NULL || self->client == NULL || wz_api_client_get_session (self->client) == NULL)
    return;

  self->history_cancellable = g_cancellable_new ();
  path = g_strconcat ("/fhir/Encounter/", wz_queue_item_get_encounter_id (self->item), NULL);
  wz_api_client_get_json_async (self->client, path, self->history_cancellable, on_history_loaded,
                                g_object_ref (self));
}

static gboolean
on_record_wait_over (gpointer user_data)
{
  gboolean *over = user_data;

  *over = TRUE;
  return G_SOURCE_REMOVE;
}

/* Signing out revokes the session and quitting stops the main loop: a record still on its way
 * gets a few seconds first, so the visit keeps it. */
static void
wait_for_records (WzCallPage *self)
{
  gboolean over = FALSE;
  guint timeout_id;

  if (*self->records_saving == 0)
    return;

  timeout_id = g_timeout_add_seconds (RECORD_WAIT_SECONDS, on_record_wait_over, &over);
  while (*self->records_saving > 0 && !over)
    g_main_context_iteration (NULL, TRUE);
  if (!over)
    g_source_remove (timeout_id);
  else
    g_message ("Gave up waiting for the video call's record to be saved");
}

static void
on_call_state (WzCallPage *self,
               GParamSpec *pspec,
               WzCall     *call)
{
  WzCallState state = wz_call_get_state (call);

  if (wz_test_report_enabled ())
    {
      g_autofree char *text = g_strdup (wz_call_get_problem (call));

      if (text != NULL)
        g_strdelimit (text, "\n", ' ');
      wz_test_report ("call-state=%s encounter=%s call=%s by=%s reason=%s duration=%u problem=%s",
                      state_nick (state), encounter_id_of (wz_call_get_encounter (call)),
                      wz_call_get_id (call),
                      wz_call_get_ended_by (call) != NULL ? wz_call_get_ended_by (call) : "",
                      wz_call_get_end_reason (call) != NULL ? wz_call_get_end_reason (call) : "",
                      wz_call_get_duration (call), text != NULL ? text : "");
    }

  if (state == WZ_CALL_ENDED || state == WZ_CALL_FAILED)
    save_record (self);

  update_view (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
}

static void
on_call_problem (WzCallPage *self)
{
  update_problem (self);
  if (self->call != NULL && wz_call_get_problem (self->call) != NULL)
    wz_test_report ("call-problem=%s", wz_call_get_problem (self->call));
}

static void
on_call_stats (WzCallPage *self)
{
  const WzCallStats *stats = wz_call_get_stats (self->call);
  GdkPaintable *remote = wz_call_get_remote_paintable (self->call);

  update_quality (self);
  if (stats == NULL)
    return;
  wz_test_report ("call-stats frames=%" G_GUINT64_FORMAT " decoded=%" G_GUINT64_FORMAT
                  " sent=%" G_GUINT64_FORMAT " width=%d height=%d quality=%s "
                  "in-kbps=%.0f out-kbps=%.0f loss=%.1f rtt=%.0f jitter=%.0f remote-level=%.0f",
                  self->remote_frames, stats->video_frames_decoded, stats->video_frames_sent,
                  gdk_paintable_get_intrinsic_width (remote),
                  gdk_paintable_get_intrinsic_height (remote),
                  gtk_label_get_text (self->quality_label),
                  stats->bitrate_in_kbps, stats->bitrate_out_kbps, stats->loss_percent,
                  stats->rtt_ms, stats->jitter_ms, stats->remote_audio_level_db);
}

static void
on_call_remote_frame (WzCallPage *self,
                      GdkTexture *texture,
                      WzCall     *call)
{
  self->remote_frames++;
  if (self->remote_frames == 1)
    {
      update_view (self);
      wz_test_report ("call-remote-frame first width=%d height=%d",
                      gdk_texture_get_width (texture), gdk_texture_get_height (texture));
    }
}

static void
on_call_signal_out (WzCallPage *self,
                    JsonObject *frame,
                    WzCall     *call)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), frame);

  if (self->realtime == NULL || !wz_realtime_send (self->realtime, node))
    g_debug ("Not connected to the server; a %s frame of call %s was not sent",
             json_object_get_string_member_with_default (frame, "type", "?"),
             wz_call_get_id (call));
}

static void
on_call_muted (WzCallPage *self)
{
  gboolean muted = wz_call_get_muted (self->call);

  if (self->muted == muted)
    return;
  self->muted = muted;
  update_controls (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MUTED]);
}

static void
on_call_camera_off (WzCallPage *self)
{
  gboolean off = wz_call_get_camera_off (self->call);

  if (self->camera_off == off)
    return;
  self->camera_off = off;
  update_controls (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAMERA_OFF]);
}

static void
drop_call (WzCallPage *self)
{
  if (self->call == NULL)
    return;

  stop_ringing (self);
  if (state_is_active (wz_call_get_state (self->call)))
    wz_call_hangup (self->call, "ended");
  g_signal_handlers_disconnect_by_data (self->call, self);
  gtk_picture_set_paintable (self->remote_picture, NULL);
  gtk_picture_set_paintable (self->local_picture, NULL);
  g_clear_object (&self->call);
  g_clear_pointer (&self->call_name, g_free);
  g_clear_pointer (&self->dismissed_problem, g_free);
  g_clear_handle_id (&self->no_answer_id, g_source_remove);
  self->remote_frames = 0;
  self->record_started = FALSE;
  self->no_answer = FALSE;
  self->muted = FALSE;
  self->camera_off = FALSE;
}

static char *
name_for_encounter (WzCallPage *self,
                    const char *encounter_id)
{
  WzQueueItem *item = self->queue != NULL ? wz_queue_model_find (self->queue, encounter_id, NULL)
                                          : NULL;

  if (item != NULL && wz_queue_item_get_name (item) != NULL)
    return g_strdup (wz_queue_item_get_name (item));
  /* Translators: stands for the patient's name when it is not known yet */
  return g_strdup (_("The patient"));
}

/* Takes a new call: configured from the settings, wired to the page and the server. */
static void
adopt_call (WzCallPage *self,
            WzCall     *call)
{
  g_autofree char *stun = g_settings_get_string (self->settings, "stun-server");
  g_autofree char *turn = g_settings_get_string (self->settings, "turn-server");
  g_autofree char *camera = g_settings_get_string (self->settings, "camera-device");
  g_autofree char *microphone = g_settings_get_string (self->settings, "microphone-device");

  drop_call (self);
  self->call = call;
  self->call_name = name_for_encounter (self, encounter_id_of (wz_call_get_encounter (call)));

  wz_call_set_ice_servers (call, stun, turn);
  wz_call_set_devices (call, camera, microphone);

  g_signal_connect_object (call, "notify::state", G_CALLBACK (on_call_state), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (call, "notify::problem", G_CALLBACK (on_call_problem), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (call, "notify::stats", G_CALLBACK (on_call_stats), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (call, "notify::muted", G_CALLBACK (on_call_muted), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (call, "notify::camera-off", G_CALLBACK (on_call_camera_off), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (call, "remote-frame", G_CALLBACK (on_call_remote_frame), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (call, "signal-out", G_CALLBACK (on_call_signal_out), self,
                           G_CONNECT_SWAPPED);

  gtk_picture_set_paintable (self->remote_picture, wz_call_get_remote_paintable (call));
  gtk_picture_set_paintable (self->local_picture, wz_call_get_local_paintable (call));
}

static gboolean
on_no_answer (gpointer user_data)
{
  WzCallPage *self = user_data;

  self->no_answer_id = 0;
  if (call_state (self) != WZ_CALL_OUTGOING)
    return G_SOURCE_REMOVE;

  self->no_answer = TRUE;
  wz_call_hangup (self->call, "ended");

  return G_SOURCE_REMOVE;
}

static void
action_start (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  WzCallPage *self = WZ_CALL_PAGE (widget);
  g_autofree char *encounter = NULL;

  if (self->item == NULL || wz_call_page_get_active (self)
      || wz_queue_item_get_status (self->item) != WZ_QUEUE_STATUS_IN_CONSULTATION)
    return;

  encounter = g_strconcat ("Encounter/", wz_queue_item_get_encounter_id (self->item), NULL);
  adopt_call (self, wz_call_new (encounter, NULL));
  wz_test_report ("call-start encounter=%s call=%s", wz_queue_item_get_encounter_id (self->item),
                  wz_call_get_id (self->call));
  self->no_answer_id = g_timeout_add_seconds (NO_ANSWER_SECONDS, on_no_answer, self);
  wz_call_start (self->call);
  update_view (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
}

static void
action_accept (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  WzCallPage *self = WZ_CALL_PAGE (widget);

  if (call_state (self) != WZ_CALL_RINGING)
    return;

  /* The call's visit becomes the open one, so the record and chat beside it are the patient's. */
  g_signal_emit (self, signals[SHOW_ENCOUNTER], 0,
                 encounter_id_of (wz_call_get_encounter (self->call)));
  stop_ringing (self);
  wz_call_accept (self->call);
}

static void
action_decline (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  WzCallPage *self = WZ_CALL_PAGE (widget);

  if (call_state (self) == WZ_CALL_RINGING)
    wz_call_hangup (self->call, "declined");
}

static void
action_hangup (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  WzCallPage *self = WZ_CALL_PAGE (widget);
  WzCallState state = call_state (self);

  if (state == WZ_CALL_RINGING)
    wz_call_hangup (self->call, "declined");
  else if (state_is_active (state))
    wz_call_hangup (self->call, "ended");
}

static void
action_leave_fullscreen (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  wz_call_page_set_fullscreen (WZ_CALL_PAGE (widget), FALSE);
}

static void
action_dismiss_problem (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  WzCallPage *self = WZ_CALL_PAGE (widget);

  if (self->call == NULL)
    return;
  g_free (self->dismissed_problem);
  self->dismissed_problem = g_strdup (wz_call_get_problem (self->call));
  update_problem (self);
}

static void
action_settings (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *preferences = wz_preferences_window_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL);

  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (preferences), "calls");
  gtk_window_present (GTK_WINDOW (preferences));
}

/* ---------------------------------------------------------------------------------------- */
/* Signaling from the server */

static void
send_busy (WzCallPage *self,
           const char *call_id,
           const char *encounter)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  JsonObject *frame = json_object_new ();

  json_object_set_string_member (frame, "type", "hangup");
  json_object_set_string_member (frame, "call", call_id);
  json_object_set_string_member (frame, "encounter", encounter);
  json_object_set_string_member (frame, "reason", "busy");
  json_node_take_object (node, frame);
  if (self->realtime != NULL)
    wz_realtime_send (self->realtime, node);
}

static void
on_signal_frame (WzCallPage *self,
                 const char *type,
                 JsonNode   *node,
                 WzRealtime *realtime)
{
  JsonObject *frame = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const char *call_id;
  const char *encounter;
  g_autoptr(GError) error = NULL;

  if (frame == NULL)
    return;
  call_id = json_object_get_string_member_with_default (frame, "call", NULL);
  encounter = json_object_get_string_member_with_default (frame, "encounter", NULL);
  if (call_id == NULL || encounter == NULL || !g_str_has_prefix (encounter, "Encounter/"))
    {
      g_debug ("Ignoring a %s frame without a call id or encounter", type);
      return;
    }

  if (self->call != NULL && g_str_equal (call_id, wz_call_get_id (self->call)))
    {
      if (!wz_call_handle_signal (self->call, frame, &error))
        g_debug ("Call %s refused a %s frame: %s", call_id, type, error->message);
      return;
    }

  if (!g_str_equal (type, "offer"))
    {
      g_debug ("Ignoring a %s frame for call %s, which is not ours", type, call_id);
      return;
    }

  /* One call at a time: whoever else calls hears “busy”. */
  if (wz_call_page_get_active (self))
    {
      g_debug ("Call %s comes in during another call; answering busy", call_id);
      send_busy (self, call_id, encounter);
      return;
    }

  adopt_call (self, wz_call_new (encounter, call_id));
  if (!wz_call_handle_signal (self->call, frame, &error))
    {
      g_debug ("Refusing incoming call %s: %s", call_id, error->message);
      drop_call (self);
      update_view (self);
      return;
    }

  wz_test_report ("call-incoming encounter=%s call=%s name=%s", encounter_id_of (encounter),
                  call_id, self->call_name);
  if (wz_call_get_state (self->call) == WZ_CALL_RINGING)
    start_ringing (self);
  update_view (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
}

static const char *
open_encounter_id (WzCallPage *self)
{
  return self->item != NULL ? wz_queue_item_get_encounter_id (self->item) : NULL;
}

/* Asks the server whether the open visit's patient page is open; the answer comes as a
 * presence frame. */
static void
ask_presence (WzCallPage *self)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonObject) frame = NULL;
  g_autofree char *encounter = NULL;

  if (open_encounter_id (self) == NULL || self->realtime == NULL
      || wz_realtime_get_state (self->realtime) != WZ_REALTIME_CONNECTED)
    return;
  encounter = g_strconcat ("Encounter/", open_encounter_id (self), NULL);
  frame = json_object_new ();
  json_object_set_string_member (frame, "type", "presence");
  json_object_set_string_member (frame, "encounter", encounter);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, frame);
  wz_realtime_send (self->realtime, node);
}

static void
on_presence (WzCallPage *self,
             const char *type,
             JsonNode   *node,
             WzRealtime *realtime)
{
  JsonObject *frame = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const char *encounter = frame ? json_object_get_string_member_with_default (frame, "encounter", NULL) : NULL;
  const char *patient = frame ? json_object_get_string_member_with_default (frame, "patient", NULL) : NULL;
  gboolean was_offline = self->presence == PRESENCE_OFFLINE;

  if (encounter == NULL || patient == NULL || open_encounter_id (self) == NULL
      || g_strcmp0 (encounter_id_of (encounter), open_encounter_id (self)) != 0)
    return;
  self->presence = g_str_equal (patient, "online") ? PRESENCE_ONLINE : PRESENCE_OFFLINE;
  wz_test_report ("call-presence encounter=%s patient=%s", open_encounter_id (self), patient);

  /* Called while the page was closed, the offer went nowhere: now that it is open, call again
   * so it rings there. */
  if (was_offline && self->presence == PRESENCE_ONLINE && call_state (self) == WZ_CALL_OUTGOING
      && g_strcmp0 (encounter_id_of (wz_call_get_encounter (self->call)), open_encounter_id (self)) == 0)
    {
      g_debug ("The patient's page opened during call %s; calling again", wz_call_get_id (self->call));
      drop_call (self);
      action_start (GTK_WIDGET (self), "call.start", NULL);
      return;
    }
  /* Its socket was gone during a reconnect: our new offer may have gone with it. */
  if (was_offline && self->presence == PRESENCE_ONLINE && self->call != NULL
      && g_strcmp0 (encounter_id_of (wz_call_get_encounter (self->call)), open_encounter_id (self)) == 0)
    wz_call_signaling_resumed (self->call);
  update_view (self);
}

static void
on_realtime_connected (WzCallPage *self,
                       gboolean    again)
{
  if (again && self->call != NULL)
    wz_call_signaling_resumed (self->call);
  ask_presence (self);
}

static void
on_realtime_state (WzCallPage *self)
{
  if (!wz_call_page_get_active (self))
    update_view (self);
}

void
wz_call_page_set_realtime (WzCallPage   *self,
                           WzRealtime   *realtime,
                           WzQueueModel *queue)
{
  static const char *const types[] = { "offer", "answer", "ice", "hangup" };

  g_return_if_fail (WZ_IS_CALL_PAGE (self));
  g_return_if_fail (WZ_IS_REALTIME (realtime));

  if (self->realtime != NULL)
    g_signal_handlers_disconnect_by_data (self->realtime, self);
  g_set_object (&self->realtime, realtime);
  g_set_object (&self->queue, queue);

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autofree char *signal = g_strconcat ("message::", types[i], NULL);

      g_signal_connect_object (realtime, signal, G_CALLBACK (on_signal_frame), self,
                               G_CONNECT_SWAPPED);
    }
  g_signal_connect_object (realtime, "notify::state", G_CALLBACK (on_realtime_state), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (realtime, "message::presence", G_CALLBACK (on_presence), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (realtime, "connected", G_CALLBACK (on_realtime_connected), self,
                           G_CONNECT_SWAPPED);
  ask_presence (self);
  update_view (self);
}

/* ---------------------------------------------------------------------------------------- */
/* The open visit */

static void
on_item_changed (WzCallPage *self)
{
  /* A visit finished during its call: the call ends with it. */
  if (self->call != NULL && self->item != NULL
      && wz_queue_item_get_status (self->item) == WZ_QUEUE_STATUS_FINISHED
      && wz_call_page_get_active (self)
      && g_strcmp0 (encounter_id_of (wz_call_get_encounter (self->call)),
                    wz_queue_item_get_encounter_id (self->item)) == 0)
    wz_call_hangup (self->call, "ended");

  update_view (self);
}

void
wz_call_page_set_item (WzCallPage  *self,
                       WzQueueItem *item)
{
  g_return_if_fail (WZ_IS_CALL_PAGE (self));

  if (self->item == item)
    return;

  if (self->item != NULL)
    g_signal_handlers_disconnect_by_data (self->item, self);
  g_set_object (&self->item, item);
  if (item != NULL)
    {
      g_signal_connect_object (item, "notify::status", G_CALLBACK (on_item_changed), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (item, "notify::name", G_CALLBACK (on_item_changed), self,
                               G_CONNECT_SWAPPED);
    }

  /* Leaving the visit of a call hangs it up; a call that only rings waits for an answer. */
  if (self->call != NULL)
    {
      WzCallState state = wz_call_get_state (self->call);
      gboolean same = item != NULL
                      && g_strcmp0 (encounter_id_of (wz_call_get_encounter (self->call)),
                                    wz_queue_item_get_encounter_id (item)) == 0;

      if (!same && state_is_active (state) && state != WZ_CALL_RINGING)
        {
          g_debug ("Leaving the visit of call %s; hanging up", wz_call_get_id (self->call));
          wz_call_hangup (self->call, "ended");
        }
      else if (!same && !state_is_active (state))
        drop_call (self);
    }

  self->presence = PRESENCE_UNKNOWN;
  ask_presence (self);
  load_history (self);
  update_view (self);
}

void
wz_call_page_end_call (WzCallPage *self)
{
  g_return_if_fail (WZ_IS_CALL_PAGE (self));

  if (self->call != NULL && wz_call_page_get_active (self))
    {
      wz_call_hangup (self->call, call_state (self) == WZ_CALL_RINGING ? "declined" : "ended");
      wz_test_report ("call-ended-by-app call=%s", wz_call_get_id (self->call));
    }
  drop_call (self);
  update_view (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
  wait_for_records (self);
}

void
wz_call_page_set_client (WzCallPage  *self,
                         WzApiClient *client)
{
  g_return_if_fail (WZ_IS_CALL_PAGE (self));
  g_return_if_fail (client == NULL || WZ_IS_API_CLIENT (client));

  g_set_object (&self->client, client);
}

/* ---------------------------------------------------------------------------------------- */
/* GObject */

static void
on_cameras_changed (WzCallPage *self)
{
  if (!wz_call_page_get_active (self))
    update_view (self);
}

static void
wz_call_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (wz_call_page_parent_class)->map (widget);

  report_view (WZ_CALL_PAGE (widget));
}

/* Quitting (Ctrl+Q, the desktop's SIGTERM) may never dispose the window; the patient is told
 * the call ended while the connection is still there, instead of waiting for a timeout. */
static void
on_application_shutdown (WzCallPage *self)
{
  if (!wz_call_page_get_active (self))
    return;

  wz_call_page_end_call (self);
  /* The main loop has stopped: give the socket a moment to write the hangup. */
  for (guint i = 0; i < 20 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

static void
wz_call_page_root (GtkWidget *widget)
{
  WzCallPage *self = WZ_CALL_PAGE (widget);
  GtkRoot *root;

  GTK_WIDGET_CLASS (wz_call_page_parent_class)->root (widget);

  root = gtk_widget_get_root (widget);
  if (GTK_IS_WINDOW (root))
    {
      GtkApplication *app = gtk_window_get_application (GTK_WINDOW (root));

      g_signal_connect_object (root, "notify::fullscreened", G_CALLBACK (on_window_fullscreened),
                               self, G_CONNECT_SWAPPED);
      if (app != NULL)
        g_signal_connect_object (app, "shutdown", G_CALLBACK (on_application_shutdown), self,
                                 G_CONNECT_SWAPPED);
    }
}

static void
wz_call_page_unroot (GtkWidget *widget)
{
  GtkRoot *root = gtk_widget_get_root (widget);

  if (root != NULL)
    g_signal_handlers_disconnect_by_func (root, on_window_fullscreened, widget);
  if (GTK_IS_WINDOW (root) && gtk_window_get_application (GTK_WINDOW (root)) != NULL)
    g_signal_handlers_disconnect_by_func (gtk_window_get_application (GTK_WINDOW (root)),
                                          on_application_shutdown, widget);

  GTK_WIDGET_CLASS (wz_call_page_parent_class)->unroot (widget);
}

static void
wz_call_page_dispose (GObject *object)
{
  WzCallPage *self = WZ_CALL_PAGE (object);

  if (self->call != NULL && wz_call_page_get_active (self))
    wz_call_hangup (self->call, "ended");
  drop_call (self);
  g_clear_handle_id (&self->timer_id, g_source_remove);
  if (self->ring != NULL)
    gtk_media_stream_pause (self->ring);
  g_clear_object (&self->ring);
  if (self->cameras != NULL)
    g_signal_handlers_disconnect_by_data (self->cameras, self);
  g_clear_object (&self->cameras);
  if (self->item != NULL)
    g_signal_handlers_disconnect_by_data (self->item, self);
  g_clear_object (&self->item);
  g_clear_object (&self->queue);
  g_clear_object (&self->realtime);
  g_cancellable_cancel (self->history_cancellable);
  g_clear_object (&self->history_cancellable);
  g_clear_object (&self->client);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), WZ_TYPE_CALL_PAGE);

  G_OBJECT_CLASS (wz_call_page_parent_class)->dispose (object);
}

static void
wz_call_page_finalize (GObject *object)
{
  WzCallPage *self = WZ_CALL_PAGE (object);

  g_free (self->summary);
  g_rc_box_release (self->records_saving);

  G_OBJECT_CLASS (wz_call_page_parent_class)->finalize (object);
}

static void
wz_call_page_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  WzCallPage *self = WZ_CALL_PAGE (object);

  switch (prop_id)
    {
    case PROP_ACTIVE:
      g_value_set_boolean (value, wz_call_page_get_active (self));
      break;
    case PROP_SUMMARY:
      g_value_set_string (value, self->summary);
      break;
    case PROP_MUTED:
      g_value_set_boolean (value, self->muted);
      break;
    case PROP_CAMERA_OFF:
      g_value_set_boolean (value, self->camera_off);
      break;
    case PROP_FULLSCREEN:
      g_value_set_boolean (value, self->fullscreen);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wz_call_page_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  WzCallPage *self = WZ_CALL_PAGE (object);

  switch (prop_id)
    {
    case PROP_MUTED:
      if (self->call != NULL)
        {
          wz_call_set_muted (self->call, g_value_get_boolean (value));
          wz_test_report ("call-muted=%s", g_value_get_boolean (value) ? "yes" : "no");
        }
      break;
    case PROP_CAMERA_OFF:
      if (self->call != NULL)
        {
          wz_call_set_camera_off (self->call, g_value_get_boolean (value));
          wz_test_report ("call-camera-off=%s", g_value_get_boolean (value) ? "yes" : "no");
        }
      break;
    case PROP_FULLSCREEN:
      wz_call_page_set_fullscreen (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
add_shortcut (GtkShortcutController *controller,
              const char            *accelerator,
              const char            *action)
{
  gtk_shortcut_controller_add_shortcut (controller,
                                        gtk_shortcut_new (gtk_shortcut_trigger_parse_string (accelerator),
                                                          gtk_named_action_new (action)));
}

static void
wz_call_page_class_init (WzCallPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wz_call_page_dispose;
  object_class->finalize = wz_call_page_finalize;
  object_class->get_property = wz_call_page_get_property;
  object_class->set_property = wz_call_page_set_property;
  widget_class->map = wz_call_page_map;
  widget_class->root = wz_call_page_root;
  widget_class->unroot = wz_call_page_unroot;

  properties[PROP_ACTIVE] =
    g_param_spec_boolean ("active", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SUMMARY] =
    g_param_spec_string ("summary", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MUTED] =
    g_param_spec_boolean ("muted", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CAMERA_OFF] =
    g_param_spec_boolean ("camera-off", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FULLSCREEN] =
    g_param_spec_boolean ("fullscreen", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * WzCallPage::show-encounter:
   * @encounter_id: the visit of a call the doctor accepted
   *
   * The workspace opens that visit, so record and chat belong to the caller.
   */
  signals[SHOW_ENCOUNTER] =
    g_signal_new ("show-encounter", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * WzCallPage::toast:
   * @message: a short message for the window's toast overlay
   */
  signals[TOAST] =
    g_signal_new ("toast", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_install_action (widget_class, "call.start", NULL, action_start);
  gtk_widget_class_install_action (widget_class, "call.accept", NULL, action_accept);
  gtk_widget_class_install_action (widget_class, "call.decline", NULL, action_decline);
  gtk_widget_class_install_action (widget_class, "call.hangup", NULL, action_hangup);
  gtk_widget_class_install_action (widget_class, "call.leave-fullscreen", NULL,
                                   action_leave_fullscreen);
  gtk_widget_class_install_action (widget_class, "call.dismiss-problem", NULL,
                                   action_dismiss_problem);
  gtk_widget_class_install_action (widget_class, "call.settings", NULL, action_settings);
  gtk_widget_class_install_property_action (widget_class, "call.muted", "muted");
  gtk_widget_class_install_property_action (widget_class, "call.camera-off", "camera-off");
  gtk_widget_class_install_property_action (widget_class, "call.fullscreen", "fullscreen");

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/wenzhen/Wenzhen/wz-call-page.ui");
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, stack);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, idle_page);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, start_button);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, idle_reason);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, history_label);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, camera_note);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, camera_note_label);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, outgoing_page);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, outgoing_spinner);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, ringing_page);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, accept_button);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, remote_picture);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, connecting_box);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, connecting_spinner);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, connecting_label);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, timer_label);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, quality_button);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, quality_icon);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, quality_label);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, peer_label);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, reconnecting_revealer);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, reconnecting_spinner);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, problem_revealer);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, problem_label);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, self_view);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, local_picture);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, camera_off_icon);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, mute_button);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, camera_button);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, fullscreen_button);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, hangup_button);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, controls);
  gtk_widget_class_bind_template_callback (widget_class, on_get_child_position);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, ended_page);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, settings_button);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, again_button);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, quality_summary);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, stat_in);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, stat_out);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, stat_loss);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, stat_rtt);
  gtk_widget_class_bind_template_child (widget_class, WzCallPage, stat_jitter);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "callpage");
}

static void
wz_call_page_init (WzCallPage *self)
{
  GtkEventController *shortcuts;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->records_saving = g_rc_box_new0 (guint);
  self->settings = g_settings_new (APP_ID);
  self->cameras = g_object_ref (wz_device_monitor_get_devices (wz_device_monitor_get_default (),
                                                               WZ_DEVICE_KIND_CAMERA));
  g_signal_connect_object (self->cameras, "items-changed", G_CALLBACK (on_cameras_changed), self,
                           G_CONNECT_SWAPPED);

  /* The call's shortcuts work from any page of the window (mute while typing in the chat);
   * each action is enabled only while it makes sense, so otherwise the keys pass through. */
  shortcuts = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (shortcuts), GTK_SHORTCUT_SCOPE_GLOBAL);
  add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), "<Control>d", "call.muted");
  add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), "<Control>e", "call.camera-off");
  add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), "F11", "call.fullscreen");
  add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), "Escape", "call.leave-fullscreen");
  add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), "<Control><Shift>h", "call.hangup");
  add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), "<Control><Shift>a", "call.accept");
  add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), "<Control><Shift>d", "call.decline");
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "call.leave-fullscreen", FALSE);
  update_view (self);
}

GtkWidget *
wz_call_page_new (void)
{
  return g_object_new (WZ_TYPE_CALL_PAGE, NULL);
}
