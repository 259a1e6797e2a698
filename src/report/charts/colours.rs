//! Colours: one per cluster (the same in every chart), grey for outliers, light colours for RFM
//! groups, the heatmap scales and the ink of text, grids and axes.

use plotters::prelude::*;

/// Tableau 10, with its grey swapped for raspberry so that grey only ever means "outliers".
const CLUSTER_PALETTE: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(211, 114, 149),
];

/// Colour of the noise / "Outliers" entry in every chart.
pub const OUTLIER_COLOR: RGBColor = RGBColor(150, 150, 150);

/// The colour of cluster `index`, identical in every chart. Past ten clusters the palette
/// repeats, darkened a little per round so that neighbours stay distinguishable.
pub fn cluster_color(index: usize) -> RGBColor {
    let base = CLUSTER_PALETTE[index % CLUSTER_PALETTE.len()];
    let round = (index / CLUSTER_PALETTE.len()).min(3);
    mix(base, RGBColor(0, 0, 0), 0.22 * round as f64)
}

pub(super) fn series_color(index: Option<usize>) -> RGBColor {
    index.map_or(OUTLIER_COLOR, cluster_color)
}

/// Light qualitative colours (ColorBrewer Set3 without its grey) for RFM groups: dark text stays
/// readable on them, and they do not look like cluster colours, which would suggest a mapping.
/// Each has a usual RFM segment it is given to, so that e.g. champions are green and at-risk
/// customers orange; other names take the unused colours in turn.
const GROUP_PALETTE: [(RGBColor, &str); 11] = [
    (RGBColor(179, 222, 105), "champion"),
    (RGBColor(141, 211, 199), "potential"),
    (RGBColor(128, 177, 211), "loyal"),
    (RGBColor(204, 235, 197), "new"),
    (RGBColor(255, 255, 179), "promising"),
    (RGBColor(255, 237, 111), "attention"),
    (RGBColor(252, 205, 229), "sleep"),
    (RGBColor(253, 180, 98), "risk"),
    (RGBColor(251, 128, 114), "lose"),
    (RGBColor(190, 186, 218), "hibernat"),
    (RGBColor(188, 128, 189), "lost"),
];

/// Colour per group (same order as `groups`): keyword matches first, then the rest in turn.
/// Names with fewer keywords, then shorter names, choose first, each taking the first unused
/// colour among its keywords: "Loyal Customers" gets "loyal" before "Potential Loyalists"
/// (which then takes "potential"), and "Hibernating" gets its colour before
/// "Hibernating / Lost" (which then takes "lost").
pub(super) fn group_colors(groups: &[&str]) -> Vec<RGBColor> {
    let n = GROUP_PALETTE.len();
    let matches: Vec<Vec<usize>> = groups
        .iter()
        .map(|g| {
            let lower = g.to_lowercase();
            (0..n)
                .filter(|&i| lower.contains(GROUP_PALETTE[i].1))
                .collect()
        })
        .collect();
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&i| (matches[i].len(), groups[i].len(), i));
    let mut used = vec![false; n];
    let mut keyed: Vec<Option<RGBColor>> = vec![None; groups.len()];
    for i in order {
        if let Some(&k) = matches[i].iter().find(|&&k| !used[k]) {
            used[k] = true;
            keyed[i] = Some(GROUP_PALETTE[k].0);
        }
    }
    // Names whose keywords are all taken ("Promising / Big Spenders" next to "Promising") get
    // a darker shade of their first keyword's colour, so they read as related but distinct.
    // The rest take the unused colours in turn, then reuse from the start (the thick borders
    // still separate neighbouring groups).
    let unused: Vec<usize> = (0..n).filter(|&i| !used[i]).collect();
    let mut spare = unused.into_iter().chain((0..n).cycle());
    let mut shades = vec![0u32; n];
    groups
        .iter()
        .zip(keyed)
        .zip(&matches)
        .map(|((g, c), keys)| match (c, keys.first()) {
            (Some(c), _) => c,
            (None, _) if g.trim().is_empty() => MISSING,
            (None, Some(&k)) => {
                shades[k] += 1;
                let t = (0.17 * shades[k] as f64).min(0.5);
                mix(GROUP_PALETTE[k].0, RGBColor(0, 0, 0), t)
            }
            (None, None) => GROUP_PALETTE[spare.next().unwrap_or(0)].0,
        })
        .collect()
}

/// ColorBrewer RdBu (7 classes), blue for negative.
pub(super) const DIVERGING: [RGBColor; 7] = [
    RGBColor(33, 102, 172),
    RGBColor(67, 147, 195),
    RGBColor(146, 197, 222),
    RGBColor(247, 247, 247),
    RGBColor(244, 165, 130),
    RGBColor(214, 96, 77),
    RGBColor(178, 24, 43),
];

/// ColorBrewer Blues (9 classes).
pub(super) const SEQUENTIAL: [RGBColor; 9] = [
    RGBColor(247, 251, 255),
    RGBColor(222, 235, 247),
    RGBColor(198, 219, 239),
    RGBColor(158, 202, 225),
    RGBColor(107, 174, 214),
    RGBColor(66, 146, 198),
    RGBColor(33, 113, 181),
    RGBColor(8, 81, 156),
    RGBColor(8, 48, 107),
];

/// z-scores beyond this all get the end colour of the diverging scale.
pub(super) const DIVERGING_CLAMP: f64 = 2.5;

pub(super) const INK: RGBColor = RGBColor(33, 33, 33);
pub(super) const MUTED: RGBColor = RGBColor(100, 100, 100);
pub(super) const GRID: RGBColor = RGBColor(225, 225, 225);
pub(super) const AXIS: RGBColor = RGBColor(140, 140, 140);
pub(super) const LINE: RGBColor = RGBColor(47, 94, 145);
pub(super) const ACCENT: RGBColor = RGBColor(204, 51, 51);
pub(super) const MISSING: RGBColor = RGBColor(236, 236, 236);
pub(super) const BORDER: RGBColor = RGBColor(60, 60, 60);

pub(super) fn mix(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let ch = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * t).round() as u8;
    RGBColor(ch(a.0, b.0), ch(a.1, b.1), ch(a.2, b.2))
}

pub(super) fn ramp(stops: &[RGBColor], t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let seg = t * (stops.len() - 1) as f64;
    let i = (seg.floor() as usize).min(stops.len() - 2);
    mix(stops[i], stops[i + 1], seg - i as f64)
}

pub(super) fn luminance(c: RGBColor) -> f64 {
    (0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64) / 255.0
}
