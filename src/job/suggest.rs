//! The nearest valid name for a misspelt key or value.

/// serde names the unknown key and lists the valid ones; add the nearest valid one.
pub(super) fn with_suggestion(message: &str) -> String {
    let Some(start) = message.find("unknown field `") else {
        return message.to_string();
    };
    let rest = &message[start + "unknown field `".len()..];
    let Some(end) = rest.find('`') else {
        return message.to_string();
    };
    let unknown = &rest[..end];
    let expected: Vec<&str> = rest[end..].split('`').skip(2).step_by(2).collect();
    format!("{}{}", message.trim_end(), suggest(unknown, &expected))
}

/// ", did you mean `x`?" for the closest candidate, or nothing when none is close.
pub fn suggest(unknown: &str, candidates: &[&str]) -> String {
    // A key cut short ("active" for "active_days") counts as one edit away.
    let distance = |c: &str| {
        if unknown.len() >= 3 && c.starts_with(unknown) {
            1
        } else {
            strsim::levenshtein(unknown, c)
        }
    };
    candidates
        .iter()
        .map(|c| (distance(c), *c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 3))
        .min()
        .map(|(_, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}
