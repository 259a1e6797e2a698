//! A customer's mailings: which of the calendar's campaigns reach them and how they respond.

use super::calendar::Calendar;
use super::profiles::Style;
use super::sampling::{chance, CustomerRng};
use super::SyntheticData;

/// Mailings to this customer: only after sign-up; engagement fades once they stop buying.
pub(super) fn push_campaigns(
    id: &str,
    style: &Style,
    signup: i64,
    last_order: Option<i64>,
    calendar: &Calendar,
    rng: &mut CustomerRng,
    data: &mut SyntheticData,
) {
    let rows = &mut data.campaigns;
    for campaign in &calendar.campaigns {
        // Draw before the sign-up test so later draws do not depend on it.
        let sent = chance(rng, campaign.coverage);
        if !sent || signup > campaign.day {
            continue;
        }
        let fading = matches!(last_order, Some(last) if campaign.day > last + 90);
        let engagement = if fading { 0.35 } else { 1.0 } * campaign.appeal;
        let opened = chance(rng, style.p_open * engagement);
        let clicked = opened && chance(rng, style.p_click);
        let responded = clicked && chance(rng, style.p_convert * engagement);
        rows.customer_id.push(id.to_string());
        rows.campaign_id.push(campaign.id.clone());
        rows.sent_at.push(campaign.date);
        rows.opened.push(opened);
        rows.clicked.push(clicked);
        rows.responded.push(responded);
    }
}
