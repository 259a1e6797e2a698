//! Every chart renders to a PNG at least 1600 px wide and a complete SVG, for ordinary, empty
//! and absurd inputs.

use std::path::{Path, PathBuf};

use super::*;

/// A fresh folder under the system temp dir (no tempfile crate needed here).
fn scratch(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "segmenta-charts-{name}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn check(dir: &Path, stem: &str) {
    let png = std::fs::read(dir.join(format!("{stem}.png"))).expect("png written");
    assert!(png.len() > 24 && &png[1..4] == b"PNG", "not a PNG");
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    assert!(width >= 1600, "PNG only {width} px wide");
    let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).expect("svg written");
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
}

fn bars() -> Vec<ClusterBar> {
    let data = [
        ("Champions-like", Some(0), 8_412, 0.143, 0.412),
        ("Loyal regulars", Some(1), 12_930, 0.22, 0.265),
        ("New customers", Some(2), 9_870, 0.168, 0.071),
        ("At risk", Some(3), 14_205, 0.242, 0.173),
        ("Outliers", None, 1_204, 0.02, 0.079),
    ];
    data.iter()
        .map(|&(name, c, n, cs, rs)| ClusterBar {
            name: name.to_string(),
            color_index: c,
            customers: n,
            customer_share: cs,
            revenue_share: rs,
        })
        .collect()
}

#[test]
fn renders_sizes_and_revenue() {
    let dir = scratch("sizes");
    sizes_and_revenue(&dir, "sizes", &bars(), true).unwrap();
    check(&dir, "sizes");
    sizes_and_revenue(&dir, "customers_only", &bars(), false).unwrap();
    check(&dir, "customers_only");
    sizes_and_revenue(&dir, "empty", &[], true).unwrap();
    check(&dir, "empty");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn renders_drivers() {
    let dir = scratch("drivers");
    let bars: Vec<DriverBar> = [
        ("days since last purchase", "rfm", 0.62),
        ("orders at weekends", "habits", 0.01),
    ]
    .iter()
    .map(|(name, group, r2)| DriverBar {
        name: name.to_string(),
        group: group.to_string(),
        r2: *r2,
    })
    .collect();
    drivers(&dir, "drivers", &bars).unwrap();
    check(&dir, "drivers");
    drivers(&dir, "empty", &[]).unwrap();
    check(&dir, "empty");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn renders_pca_scatter() {
    let dir = scratch("pca");
    let series: Vec<ScatterSeries> = (0..4)
        .map(|c| ScatterSeries {
            name: format!("Cluster {c}"),
            color_index: if c == 3 { None } else { Some(c) },
            points: (0..300)
                .map(|i| {
                    let t = i as f64 * 0.37 + c as f64;
                    (t.sin() * 2.0 + c as f64, t.cos() + c as f64 * 0.5)
                })
                .chain([(f64::NAN, 1.0), (500.0, -300.0)])
                .collect(),
        })
        .collect();
    pca_scatter(&dir, "pca", &series, (0.342, 0.187)).unwrap();
    check(&dir, "pca");
    pca_scatter(&dir, "empty", &[], (f64::NAN, f64::NAN)).unwrap();
    check(&dir, "empty");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn renders_heatmaps() {
    let dir = scratch("heat");
    let cols: Vec<String> = (0..30).map(|i| format!("category_share_{i}")).collect();
    let rows: Vec<String> = ["Champions-like", "New customers", "Outliers"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let values: Vec<Vec<f64>> = (0..3)
        .map(|r| {
            (0..30)
                .map(|c| ((r * 30 + c) as f64 * 0.7).sin() * 3.0)
                .collect()
        })
        .collect();
    let cell_text = values
        .iter()
        .map(|r| r.iter().map(|v| format!("{v:+.1}")).collect())
        .collect();
    let mut map = Heatmap {
        title: "Cluster profiles".into(),
        row_labels: rows,
        col_labels: cols,
        values,
        cell_text,
        palette: Palette::Diverging,
        row_axis: "Cluster".into(),
        col_axis: "Feature".into(),
        subtitle: None,
    };
    map.values[1][2] = f64::NAN;
    heatmap(&dir, "profile", &map).unwrap();
    check(&dir, "profile");
    map.palette = Palette::Sequential;
    map.values.truncate(1); // ragged input must not panic
    heatmap(&dir, "ragged", &map).unwrap();
    check(&dir, "ragged");
    map.row_labels.clear();
    heatmap(&dir, "empty", &map).unwrap();
    check(&dir, "empty");
    let _ = std::fs::remove_dir_all(dir);
}

/// First and last score of a segment's range.
type Span = (usize, usize);

/// The classic RFM map on 5 scores: `(name, r range, f range)`.
const CLASSIC: [(&str, Span, Span); 10] = [
    ("Champions", (5, 5), (4, 5)),
    ("Loyal Customers", (3, 4), (4, 5)),
    ("Potential Loyalists", (4, 5), (2, 3)),
    ("New Customers", (5, 5), (1, 1)),
    ("Promising", (4, 4), (1, 1)),
    ("Need Attention", (3, 3), (3, 3)),
    ("About to Sleep", (3, 3), (1, 2)),
    ("At Risk", (1, 2), (3, 4)),
    ("Can't Lose Them", (1, 2), (5, 5)),
    ("Hibernating", (1, 2), (1, 2)),
];

/// The classic map stretched to `bins` scores (score s reads as the 5-score ceil(5 s / bins)),
/// with realistic counts and revenue (recent, frequent buyers spend most).
fn classic_grid(bins: usize) -> RfGrid {
    let five = |s: usize| (s * 5).div_ceil(bins);
    let group = |r: usize, f: usize| {
        CLASSIC
            .iter()
            .find(|(_, rr, ff)| {
                (rr.0..=rr.1).contains(&five(r)) && (ff.0..=ff.1).contains(&five(f))
            })
            .map_or(String::new(), |g| g.0.to_string())
    };
    let per_side = |v: &dyn Fn(usize, usize) -> f64| -> Vec<Vec<f64>> {
        (1..=bins)
            .map(|r| (1..=bins).map(|f| v(r, f)).collect())
            .collect()
    };
    let counts = per_side(&|r, f| {
        let (r, f) = (r as f64 / bins as f64, f as f64 / bins as f64);
        (9000.0 / bins as f64 * (1.4 - (r - f).abs()) * (0.6 + 0.4 * (1.0 - f))).round()
    });
    let revenue = per_side(&|r, f| {
        let n = counts[r - 1][f - 1];
        n * (40.0 + 900.0 * (f as f64 / bins as f64).powi(2)) * (0.5 + r as f64 / bins as f64)
    });
    RfGrid {
        bins,
        counts: counts
            .iter()
            .map(|row| row.iter().map(|&v| v as u64).collect())
            .collect(),
        revenue,
        group_of_cell: (1..=bins)
            .map(|r| (1..=bins).map(|f| group(r, f)).collect())
            .collect(),
        title: "Customers by R and F score".into(),
        map_name: "Classic RFM groups".into(),
        all_customers: None,
    }
}

/// Renders into `dir` and, when `SEGMENTA_CHART_DIR` is set, also copies the PNG there for
/// looking at.
fn render_rf(dir: &Path, stem: &str, grid: &RfGrid) {
    rf_grid(dir, stem, grid).unwrap();
    check(dir, stem);
    if let Ok(out) = std::env::var("SEGMENTA_CHART_DIR") {
        let _ = std::fs::copy(
            dir.join(format!("{stem}.png")),
            Path::new(&out).join(format!("rf-grid-{stem}.png")),
        );
    }
}

#[test]
fn renders_rf_grid() {
    let dir = scratch("rf");
    render_rf(&dir, "5x5", &classic_grid(5));
    render_rf(&dir, "3x3", &classic_grid(3));
    let mut nine = classic_grid(9);
    // A map that splits cells further by M gives combined names, even in single cells.
    nine.group_of_cell[0][0] = "Hibernating / Lost".into();
    nine.group_of_cell[8][0] = "New Customers / Big Spenders".into();
    nine.group_of_cell[6][0] = "Promising / Big Spenders".into();
    render_rf(&dir, "9x9", &nine);
    nine.counts[8][8] = 1_234_567_890;
    render_rf(&dir, "9x9-big", &nine);
    for bins in [2, 4, 6, 7, 8] {
        render_rf(&dir, &format!("{bins}x{bins}"), &classic_grid(bins));
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn renders_rf_grid_with_refunds_and_no_data() {
    let dir = scratch("rf-edge");
    // Net revenue 0 in total, negative in some cells: shares show "–", nothing panics.
    let mut refunds = classic_grid(5);
    refunds.revenue = vec![vec![0.0; 5]; 5];
    refunds.revenue[0][0] = -1250.5;
    refunds.revenue[4][4] = 1250.5;
    refunds.revenue[2][2] = -0.0;
    render_rf(&dir, "zero-revenue", &refunds);
    // Negative cells against a positive total give negative shares and shares above 100 %.
    refunds.revenue[4][4] = 1300.0;
    refunds.revenue[1][3] = f64::NAN;
    render_rf(&dir, "negative", &refunds);
    let empty = RfGrid {
        bins: 5,
        counts: vec![vec![0; 5]; 5],
        revenue: vec![vec![0.0; 5]; 5],
        group_of_cell: vec![vec![String::new(); 5]; 5],
        title: String::new(),
        map_name: String::new(),
        all_customers: Some(10),
    };
    render_rf(&dir, "empty", &empty);
    // Ragged or missing arrays and bins out of range are drawn, not indexed blindly.
    let ragged = RfGrid {
        bins: 12,
        counts: vec![vec![3; 2]],
        revenue: vec![],
        group_of_cell: vec![vec!["A".into()], vec![]],
        title: String::new(),
        map_name: String::new(),
        all_customers: None,
    };
    render_rf(&dir, "ragged", &ragged);
    let tiny = RfGrid { bins: 0, ..ragged };
    render_rf(&dir, "tiny", &tiny);
    // More groups than the legend has room for.
    let mut many = classic_grid(9);
    for (r, row) in many.group_of_cell.iter_mut().enumerate() {
        for (f, g) in row.iter_mut().enumerate() {
            *g = format!("Segment {r}-{f} with a long name");
        }
    }
    render_rf(&dir, "many", &many);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn renders_k_selection() {
    let dir = scratch("ksel");
    let ks: Vec<usize> = (2..=10).collect();
    let db = ks
        .iter()
        .map(|&k| (k != 7).then_some(0.8 + 0.03 * k as f64))
        .collect();
    let sel = KSelection {
        title: "Choosing the number of clusters".into(),
        panels: vec![
            KPanel::new(
                "Silhouette – higher is better",
                "Silhouette",
                ks.iter().map(|&k| Some(0.5 - 0.02 * k as f64)).collect(),
            ),
            KPanel::new(
                "Calinski–Harabasz – higher is better",
                "Calinski–Harabasz",
                ks.iter().map(|&k| Some(9000.0 / k as f64)).collect(),
            ),
            KPanel::new("Davies–Bouldin – lower is better", "Davies–Bouldin", db),
            KPanel::new(
                "Inertia (elbow)",
                "Inertia",
                ks.iter().map(|&k| Some(1.0e6 / k as f64)).collect(),
            ),
            KPanel::new(
                "Stability – higher is better",
                "ARI",
                ks.iter().map(|_| Some(0.9)).collect(),
            ),
        ],
        chosen_k: 5,
        ks,
    };
    k_selection(&dir, "ksel", &sel).unwrap();
    check(&dir, "ksel");
    let empty = KSelection {
        title: String::new(),
        ks: vec![],
        panels: vec![],
        chosen_k: 0,
    };
    k_selection(&dir, "empty", &empty).unwrap();
    check(&dir, "empty");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn renders_flow() {
    let dir = scratch("flow");
    let node = |label: &str, note: &str, color| FlowNode {
        label: label.into(),
        note: note.into(),
        color,
    };
    let link = |from, to, customers, stayed| FlowLink {
        from,
        to,
        customers,
        stayed,
    };
    let chart = Flow {
        title: "Who moved since 2026-01-01".into(),
        subtitle: "Clusters matched through the previous model".into(),
        left_title: "2026-01-01".into(),
        right_title: "2026-02-01".into(),
        left: vec![
            node("Cluster 0 · Champions", "", FlowColor::Cluster(1)),
            node("Cluster 1 · At Risk", "", FlowColor::Unmatched),
            node("Cluster 2 · Tiny", "", FlowColor::Cluster(0)),
            node("New customers", "", FlowColor::Neutral),
        ],
        right: vec![
            node(
                "Cluster 0 · Tiny now",
                "continues Cluster 2",
                FlowColor::Cluster(0),
            ),
            node(
                "Cluster 1 · Champions",
                "continues Cluster 0",
                FlowColor::Cluster(1),
            ),
            node("Outliers", "", FlowColor::Outliers),
            node("Lost", "", FlowColor::Neutral),
        ],
        links: vec![
            link(0, 1, 5_000, true),
            link(0, 3, 300, false),
            link(1, 0, 40, false),
            link(1, 1, 900, false),
            link(2, 0, 3, true),
            link(3, 2, 2, false),
            link(3, 1, 800, false),
            // Out of range: ignored.
            link(9, 1, 50, false),
        ],
    };
    flow(&dir, "flow", &chart).unwrap();
    check(&dir, "flow");
    if let Ok(out) = std::env::var("SEGMENTA_CHART_DIR") {
        let _ = std::fs::copy(dir.join("flow.png"), Path::new(&out).join("flow.png"));
    }
    let empty = Flow {
        links: vec![],
        ..chart
    };
    flow(&dir, "empty", &empty).unwrap();
    check(&dir, "empty");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn renders_k_distance() {
    let dir = scratch("kdist");
    let d: Vec<f64> = (0..5000)
        .map(|i| 0.2 + (i as f64 / 5000.0).powi(8) * 4.0)
        .collect();
    k_distance(&dir, "kdist", &d, 4600, 0.83, 10).unwrap();
    check(&dir, "kdist");
    k_distance(&dir, "empty", &[], 0, f64::NAN, 10).unwrap();
    check(&dir, "empty");
    k_distance(&dir, "nan", &[f64::NAN, 1.0], 7, 0.5, 3).unwrap();
    check(&dir, "nan");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn absurd_inputs_do_not_panic() {
    let dir = scratch("absurd");
    let series = vec![ScatterSeries {
        name: String::new(),
        color_index: Some(usize::MAX),
        points: vec![
            (1e300, -1e300),
            (f64::INFINITY, 0.0),
            (0.0, 0.0),
            (0.0, 0.0),
        ],
    }];
    pca_scatter(&dir, "pca", &series, (f64::INFINITY, -3.0)).unwrap();
    check(&dir, "pca");
    let map = Heatmap {
        title: String::new(),
        row_labels: vec!["only row".into()],
        col_labels: (0..150).map(|i| format!("c{i}")).collect(),
        values: vec![vec![f64::INFINITY, f64::NEG_INFINITY, 1e300]],
        cell_text: vec![],
        palette: Palette::Sequential,
        row_axis: String::new(),
        col_axis: String::new(),
        subtitle: None,
    };
    heatmap(&dir, "heat", &map).unwrap();
    check(&dir, "heat");
    let sel = KSelection {
        title: String::new(),
        ks: vec![2, 3],
        panels: vec![
            KPanel::new("", "", vec![Some(1e300), Some(-1e300)]),
            KPanel::new("", "", vec![Some(5.0), Some(5.0)]),
            KPanel::new("", "", vec![]),
            KPanel::new("", "", vec![Some(f64::INFINITY)]),
        ],
        chosen_k: 3,
    };
    k_selection(&dir, "ksel", &sel).unwrap();
    check(&dir, "ksel");
    k_distance(
        &dir,
        "kd",
        &[f64::INFINITY, 1e300, 0.0],
        usize::MAX,
        -1.0,
        0,
    )
    .unwrap();
    check(&dir, "kd");
    let _ = std::fs::remove_dir_all(dir);
}
