//! Lifecycle stages by days since the last purchase (SPEC §4).

use crate::job::LifecycleThresholds;

/// Zero without a purchase; Returned when the gap between the last two purchases exceeded the
/// pre-churn window (the customer had churned) and the last purchase is within the active window.
pub fn stage(
    recency_days: Option<f64>,
    previous_gap_days: Option<f64>,
    t: &LifecycleThresholds,
) -> &'static str {
    let Some(recency) = recency_days else {
        return "Zero";
    };
    let active = recency <= t.active_days as f64;
    let came_back = previous_gap_days.is_some_and(|gap| gap > t.pre_churn_days as f64);
    match recency {
        _ if active && came_back => "Returned",
        _ if active => "Active",
        r if r <= t.pre_churn_days as f64 => "Pre-churn",
        r if r <= t.churn_days as f64 => "Churn",
        _ => "Gone",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_follow_the_spec() {
        let t = LifecycleThresholds::default();
        assert_eq!(stage(Some(60.0), None, &t), "Active");
        assert_eq!(stage(Some(61.0), None, &t), "Pre-churn");
        assert_eq!(stage(Some(120.0), None, &t), "Pre-churn");
        assert_eq!(stage(Some(121.0), None, &t), "Churn");
        assert_eq!(stage(Some(180.0), None, &t), "Churn");
        assert_eq!(stage(Some(181.0), None, &t), "Gone");
        assert_eq!(stage(Some(10.0), Some(121.0), &t), "Returned");
        assert_eq!(stage(Some(10.0), Some(120.0), &t), "Active");
        assert_eq!(stage(Some(61.0), Some(200.0), &t), "Pre-churn");
        assert_eq!(stage(None, None, &t), "Zero");
    }
}
