//! Feature names made from the data: column headers and category values as lowercase,
//! unique column-name parts.

/// A column-name part is at most this many characters (a value can be a megabyte long).
const SLUG_LENGTH: usize = 40;

/// A value turned into a lowercase column-name part: "Home & Garden" → "home_garden".
pub fn slug(value: &str) -> String {
    let mut out = String::new();
    for c in value.trim().chars().flat_map(char::to_lowercase) {
        if out.chars().count() >= SLUG_LENGTH {
            break;
        }
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_').to_string();
    if trimmed.is_empty() {
        "blank".into()
    } else {
        trimmed
    }
}

/// A column the job names itself (numeric, categorical) as a feature name: its header in lowercase
/// words with units in brackets dropped ("Annual Income (k$)" → "annual_income"), or the whole
/// header when nothing else is left of it.
pub fn column_name(header: &str) -> String {
    let mut depth = 0usize;
    let mut outside = String::new();
    for c in header.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => outside.push(c),
            _ => {}
        }
    }
    if outside.chars().any(char::is_alphanumeric) {
        slug(&outside)
    } else {
        slug(header)
    }
}

/// Column names "<prefix>_<slug>" for the values of one column, each unique: values that slug
/// alike ("Home & Garden", "home garden") or share a long beginning get "_2", "_3", …, and
/// "<prefix>_other" stays free for the values not kept.
pub fn value_names<'a>(prefix: &str, values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut taken = std::collections::HashSet::from([format!("{prefix}_other")]);
    values
        .into_iter()
        .map(|value| {
            let base = format!("{prefix}_{}", slug(value));
            let mut name = base.clone();
            for n in 2.. {
                if !taken.contains(&name) {
                    break;
                }
                name = format!("{base}_{n}");
            }
            taken.insert(name.clone());
            name
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_named_columns_lose_their_units() {
        assert_eq!(column_name("Annual Income (k$)"), "annual_income");
        assert_eq!(column_name("Spending Score (1-100)"), "spending_score");
        assert_eq!(column_name("MINIMUM_PAYMENTS"), "minimum_payments");
        assert_eq!(column_name("Balance [USD]"), "balance");
        assert_eq!(column_name("(k$)"), "k");
        assert_eq!(slug("Home & Garden"), "home_garden");
    }
}
