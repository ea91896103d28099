//! Analytics screen: the range key and stale ranges.

mod common;

use chrono::TimeDelta;
use common::*;
use echo5_tui::app::{Call, Reply, Screen, update};

#[test]
fn eight_opens_analytics_for_thirty_days() {
    let mut s = on_tenant_screen('1');
    let fx = update(&mut s, key('8'));
    assert_eq!(s.screen, Screen::Analytics);
    assert_eq!(
        calls(&fx),
        vec![Call::GetAnalytics {
            tenant: tenant_id(1),
            days: 30,
            from: now() - TimeDelta::days(30),
        }]
    );
}

#[test]
fn r_cycles_the_range_and_old_ranges_are_dropped() {
    let mut s = on_tenant_screen('8');
    assert_eq!(
        s.analytics.remote.data.as_ref().map(|a| a.per_day.len()),
        Some(30)
    );
    let to90 = requests(&update(&mut s, key('r')));
    assert_eq!(s.analytics.days, 90);
    assert!(matches!(to90[0].call, Call::GetAnalytics { days: 90, .. }));
    let to7 = requests(&update(&mut s, key('r')));
    assert_eq!(s.analytics.days, 7);
    answer(
        &mut s,
        &to7[0],
        Ok(Reply::Analytics(Box::new(analytics(7)))),
    );
    // The 90-day answer arrives last: the 7-day numbers stay.
    answer(
        &mut s,
        &to90[0],
        Ok(Reply::Analytics(Box::new(analytics(90)))),
    );
    assert_eq!(
        s.analytics.remote.data.as_ref().map(|a| a.per_day.len()),
        Some(7)
    );
    update(&mut s, key('r'));
    assert_eq!(s.analytics.days, 30, "wraps around");
}
