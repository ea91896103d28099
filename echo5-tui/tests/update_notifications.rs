//! Notifications screen: the channels, rules and steps as rows; `t` sends a test over the
//! selected channel (only a set-up one); Enter previews the selected rule's template, and
//! the latest preview asked for wins. Pure `update`, no terminal, no network.

mod common;

use common::*;
use crossterm::event::KeyCode;
use echo5_core::notifications::{Channel, NotifyEvent};
use echo5_tui::app::components::notifications::Row;
use echo5_tui::app::{Call, Reply, State, update};

fn on_notifications() -> State {
    let mut s = on_tenant_screen('4');
    let fx = update(&mut s, key(':'));
    settle(&mut s, fx);
    typ(&mut s, "notifications");
    let fx = update(&mut s, code(KeyCode::Enter));
    settle(&mut s, fx);
    s.toasts.clear();
    s
}

fn toast_texts(s: &State) -> Vec<String> {
    s.toasts.iter().map(|t| t.text.clone()).collect()
}

#[test]
fn the_screen_lists_channels_rules_and_steps() {
    let s = on_notifications();
    let rows = s.notifications.rows();
    assert_eq!(rows.len(), 3 + 4 + 2, "{rows:?}");
    assert_eq!(rows[0], Row::Channel(Channel::Email));
    assert_eq!(rows[4], Row::Rule(NotifyEvent::SlaBreached));
    assert!(matches!(&rows[8], Row::Step(st) if st.after_hours == 8));
}

#[test]
fn t_tests_the_selected_channel_once_it_is_set_up() {
    let mut s = on_notifications();
    // Slack is set up: one test call, and its answer says what was queued.
    update(&mut s, key('j'));
    let fx = update(&mut s, key('t'));
    let reqs = requests(&fx);
    assert_eq!(
        calls(&fx),
        [Call::TestNotification {
            tenant: tenant_id(1),
            channel: Channel::Slack
        }]
    );
    answer(&mut s, &reqs[0], Ok(Reply::NotificationTested(1)));
    assert_eq!(toast_texts(&s), ["test queued for slack: 1 message(s)"]);
    // SMS is not: nothing is sent, and the toast says why.
    s.toasts.clear();
    update(&mut s, key('j'));
    let fx = update(&mut s, key('t'));
    assert!(calls(&fx).is_empty(), "{fx:?}");
    assert_eq!(toast_texts(&s), ["sms is not set up for this tenant"]);
    // A rule row is not a channel.
    s.toasts.clear();
    update(&mut s, key('j'));
    let fx = update(&mut s, key('t'));
    assert!(calls(&fx).is_empty());
    assert_eq!(toast_texts(&s).len(), 1);
}

#[test]
fn enter_previews_the_rules_template_and_the_latest_preview_wins() {
    let mut s = on_notifications();
    for _ in 0..4 {
        update(&mut s, key('j'));
    }
    let fx = update(&mut s, code(KeyCode::Enter));
    let first = requests(&fx);
    assert_eq!(
        calls(&fx),
        [Call::PreviewNotification {
            tenant: tenant_id(1),
            event: NotifyEvent::SlaBreached
        }]
    );
    // The operator moves on to the next rule before the first preview lands.
    update(&mut s, key('j'));
    let fx = update(&mut s, code(KeyCode::Enter));
    let second = requests(&fx);
    assert_eq!(
        s.notifications.preview_event,
        Some(NotifyEvent::SlaEscalated)
    );
    let reply = |e: NotifyEvent| {
        Reply::NotificationPreview(Box::new(echo5_core::notifications::Rendered {
            subject: e.as_str().into(),
            text: String::new(),
            html: String::new(),
        }))
    };
    answer(&mut s, &second[0], Ok(reply(NotifyEvent::SlaEscalated)));
    answer(&mut s, &first[0], Ok(reply(NotifyEvent::SlaBreached)));
    let (event, shown) = s.notifications.preview.data.clone().unwrap();
    assert_eq!(event, NotifyEvent::SlaEscalated);
    assert_eq!(
        shown.subject, "sla.escalated",
        "the older answer does not replace it"
    );
}
