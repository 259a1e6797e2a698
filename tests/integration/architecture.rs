//! The layering docs/architecture.md describes, checked on the source: which top-level module of
//! the library names which (`crate::<module>` anywhere in its files), so that no module depends
//! on itself through others, the leaves use nothing of the crate, the job format uses only the
//! error type, and no stage reaches the report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::util;

/// Items of the crate root that belong to a module: `crate::Error` is `error`'s.
const ROOT_ITEMS: [(&str, &str); 4] = [
    ("Error", "error"),
    ("Result", "error"),
    ("RunResult", "pipeline"),
    ("RunOptions", "pipeline"),
];

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Top-level module → the other top-level modules its files name. The command line (main.rs,
/// cmd/) is not part of the library and may use any of it.
fn module_graph() -> Graph {
    let src = util::repo("src");
    let mut graph = Graph::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if ["lib", "main", "cmd"].contains(&name.as_str()) {
            continue;
        }
        let mut uses = BTreeSet::new();
        for_each_rust_file(&path, &mut |text| uses.extend(crate_paths(text)));
        uses.remove(&name);
        graph.insert(name, uses);
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for uses in graph.values_mut() {
        uses.retain(|u| modules.contains(u));
    }
    graph
}

fn for_each_rust_file(path: &Path, visit: &mut impl FnMut(&str)) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            for_each_rust_file(&entry.unwrap().path(), visit);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        visit(&std::fs::read_to_string(path).unwrap());
    }
}

/// The module after every `crate::` outside comments.
fn crate_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        for (_, rest) in code
            .match_indices("crate::")
            .map(|(i, _)| code.split_at(i + 7))
        {
            let item: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let module = ROOT_ITEMS
                .iter()
                .find(|(root, _)| *root == item)
                .map_or(item.clone(), |(_, module)| module.to_string());
            found.push(module);
        }
    }
    found
}

/// Every module that reaches `from` again through the modules it uses.
fn cycles(graph: &Graph) -> Vec<String> {
    graph
        .keys()
        .filter(|start| {
            let mut seen = BTreeSet::new();
            let mut todo: Vec<&String> = graph[*start].iter().collect();
            while let Some(next) = todo.pop() {
                if next == *start {
                    return true;
                }
                if seen.insert(next) {
                    todo.extend(graph.get(next).into_iter().flatten());
                }
            }
            false
        })
        .cloned()
        .collect()
}

#[test]
fn no_module_depends_on_itself_through_others() {
    let graph = module_graph();
    assert!(graph.len() > 10, "the modules were not found: {graph:?}");
    assert_eq!(cycles(&graph), Vec::<String>::new(), "{graph:#?}");
}

#[test]
fn leaves_and_formats_stay_below_the_stages() {
    let graph = module_graph();
    for leaf in ["error", "format", "layout", "metrics"] {
        assert_eq!(
            graph[leaf],
            BTreeSet::new(),
            "{leaf} uses {:?}",
            graph[leaf]
        );
    }
    let job: Vec<&String> = graph["job"].iter().collect();
    assert_eq!(job, ["error"], "the job format uses {job:?}");
    for stage in [
        "load", "features", "lifetime", "rules", "cluster", "label", "model", "compare",
    ] {
        for later in ["report", "pipeline", "stages"] {
            assert!(
                !graph[stage].contains(later),
                "{stage} uses {later}: {:?}",
                graph[stage]
            );
        }
    }
    assert!(
        !graph["cluster"].contains("features") && !graph["cluster"].contains("job"),
        "the algorithms take a matrix: cluster uses {:?}",
        graph["cluster"]
    );
}

#[test]
fn a_cycle_and_a_crate_path_are_found() {
    let graph: Graph = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]
        .into_iter()
        .map(|(from, to)| (from.to_string(), BTreeSet::from([to.to_string()])))
        .collect();
    assert_eq!(cycles(&graph), ["a", "b", "c"]);
    assert_eq!(
        crate_paths("use crate::load::ledger; // crate::report\nlet e = crate::Error::data(x);"),
        ["load", "error"]
    );
}
