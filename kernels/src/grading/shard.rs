//! Grading spread over machines: `autograde --shard I/N` grades the
//! submissions whose output name hashes to shard `I` of `N` (FNV-1a of the
//! name, so a submission's shard depends on its name only, never on the list
//! or the machine), and `merge` gathers the shards' folders into one
//! `grades.csv`, refusing a submission that is missing or was graded twice.
use super::report::grades_csv;
use crate::notebook::write_atomic;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` with 1 <= I <= N.
    pub fn parse(text: &str) -> Result<Shard> {
        let parsed = text
            .split_once('/')
            .and_then(|(i, n)| Some((i.trim().parse::<usize>().ok()?, n.trim().parse::<usize>().ok()?)));
        match parsed {
            Some((index, count)) if count >= 1 && (1..=count).contains(&index) => Ok(Shard { index, count }),
            _ => bail!("--shard {text}: expected I/N with 1 <= I <= N, for example --shard 2/8 (the second of eight machines)"),
        }
    }

    /// Whether the submission whose output folder is `name` belongs to this shard.
    pub fn owns(&self, name: &str) -> bool {
        shard_of(name, self.count) == self.index
    }
}

/// The shard (1-based, of `count`) of an output name: FNV-1a 64 of its bytes, modulo `count`.
pub fn shard_of(name: &str, count: usize) -> usize {
    (crate::paths::fnv1a(name.as_bytes()) % count.max(1) as u64) as usize + 1
}

/// FNV-1a 64 of a file's bytes, in hex: which source notebook graded a folder.
pub fn fingerprint(bytes: &[u8]) -> String {
    crate::paths::short_hash(bytes)
}

/// What a shard (or an unsharded run) writes next to its folders: `shard.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardManifest {
    pub shard: Shard,
    /// The fingerprint of the source notebook it graded with.
    pub source: String,
    /// Every output name of the whole submission list, in submission order, with its shard.
    pub all: Vec<(String, usize)>,
    /// The test ids, in order (the columns of grades.csv).
    pub tests: Vec<String>,
}

impl ShardManifest {
    pub const FILE: &'static str = "shard.json";

    pub fn write(&self, dir: &Path) -> Result<()> {
        write_atomic(&dir.join(Self::FILE), serde_json::to_string_pretty(self)?.as_bytes())
    }

    pub fn read(dir: &Path) -> Result<ShardManifest> {
        let path = dir.join(Self::FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{} is not a shard's folder: it has no {} (was it written by `autograde --shard`?)", dir.display(), Self::FILE))?;
        serde_json::from_str(&text).with_context(|| format!("{}: not a shard manifest", path.display()))
    }
}

/// A graded folder's results.json, if it is there and readable.
pub fn read_results(folder: &Path) -> Option<Value> {
    std::fs::read_to_string(folder.join("results.json")).ok().and_then(|t| serde_json::from_str(&t).ok())
}

/// What `merge` found.
#[derive(Debug, Default, PartialEq)]
pub struct MergeSummary {
    pub merged: usize,
}

/// Merges shard folders into `out`: checks that every shard graded with the
/// same source and submission list, that every submission was graded by
/// exactly one shard, copies each graded folder into `out` (unless it is
/// already there) and writes `out/grades.csv`. Writes nothing when a check fails.
pub fn merge(shard_dirs: &[PathBuf], out: &Path) -> Result<MergeSummary> {
    if shard_dirs.is_empty() {
        bail!("merge needs the shards' output folders, for example: replearn-grade merge --out grades shard-1 shard-2");
    }
    for (i, a) in shard_dirs.iter().enumerate() {
        if let Some(b) = shard_dirs[i + 1..].iter().find(|b| same_dir(a, b)) {
            bail!("{} and {} are the same folder: give each shard's own folder once (every shard writes to its own --out)", a.display(), b.display());
        }
    }
    let manifests: Vec<ShardManifest> = shard_dirs.iter().map(|d| ShardManifest::read(d)).collect::<Result<_>>()?;
    let first = &manifests[0];
    for (dir, m) in shard_dirs.iter().zip(&manifests).skip(1) {
        if m.source != first.source {
            bail!("{} was graded with another source notebook than {} (fingerprints {} and {}): grade every shard with the same SOURCE.ipynb", dir.display(), shard_dirs[0].display(), m.source, first.source);
        }
        if m.all != first.all || m.shard.count != first.shard.count {
            bail!("{} was given another submission list or shard count than {}: run every shard with the same submissions and the same N", dir.display(), shard_dirs[0].display());
        }
    }
    // Where each submission was graded.
    let mut found: BTreeMap<&str, Vec<(usize, Value)>> = BTreeMap::new();
    for (k, dir) in shard_dirs.iter().enumerate() {
        for (name, _) in &first.all {
            let folder = dir.join(name);
            if let Some(results) = read_results(&folder) {
                found.entry(name).or_default().push((k, results));
            }
        }
    }
    let mut problems = Vec::new();
    for (name, shard) in &first.all {
        match found.get(name.as_str()).map(Vec::len).unwrap_or(0) {
            0 => problems.push(format!("{name}: not graded (shard {shard}/{}); run that shard again: it grades only what is missing", first.shard.count)),
            1 => {}
            n => problems.push(format!(
                "{name}: graded {n} times, in {}; keep one of them",
                found[name.as_str()].iter().map(|(k, _)| shard_dirs[*k].display().to_string()).collect::<Vec<_>>().join(" and ")
            )),
        }
    }
    if !problems.is_empty() {
        bail!("not merged, {} problem(s):\n  {}", problems.len(), problems.join("\n  "));
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut rows = Vec::new();
    for (name, _) in &first.all {
        let (k, results) = &found[name.as_str()][0];
        let from = shard_dirs[*k].join(name);
        let to = out.join(name);
        if !same_dir(&from, &to) {
            copy_dir(&from, &to)?;
        }
        rows.push((name.clone(), results.clone()));
    }
    write_atomic(&out.join("grades.csv"), grades_csv(&first.tests, &rows).as_bytes())?;
    // The merged folder is one complete "shard": merging it again, or with nothing else, checks out.
    ShardManifest { shard: Shard { index: 1, count: 1 }, all: first.all.iter().map(|(n, _)| (n.clone(), 1)).collect(), ..first.clone() }.write(out)?;
    Ok(MergeSummary { merged: rows.len() })
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Copies a graded folder (files only, one level: results.json, feedback, the graded notebook, logs).
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).with_context(|| format!("copying {} into {}", entry.path().display(), to.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_names_and_do_not_depend_on_the_list() {
        let names: Vec<String> = (0..300).map(|i| format!("student_{i:03}")).collect();
        let count = 4;
        let mut sizes = vec![0; count];
        for name in &names {
            let owners: Vec<usize> = (1..=count).filter(|&i| Shard { index: i, count }.owns(name)).collect();
            assert_eq!(owners.len(), 1, "{name} must belong to exactly one shard");
            sizes[owners[0] - 1] += 1;
        }
        // FNV-1a spreads 300 names within a few dozen of 75 each.
        assert!(sizes.iter().all(|&s| (45..=105).contains(&s)), "{sizes:?}");
        // A known value, so the assignment never changes between versions or machines.
        assert_eq!(shard_of("alice", 8), shard_of("alice", 8));
        assert_eq!(fingerprint(b"a"), "af63dc4c8601ec8c");
        assert_eq!(shard_of("", 1), 1);
    }

    #[test]
    fn shard_flags_are_checked() {
        assert_eq!(Shard::parse("2/8").unwrap(), Shard { index: 2, count: 8 });
        for bad in ["0/3", "4/3", "1/0", "x", "1-2"] {
            assert!(Shard::parse(bad).unwrap_err().to_string().contains("I/N"), "{bad}");
        }
    }

    fn graded(dir: &Path, name: &str, score: f64) {
        std::fs::create_dir_all(dir.join(name)).unwrap();
        let json = serde_json::json!({"score": score, "tests": [{"score": score}], "extra_data": {"max_score": 3.0, "manual_points": 2.0}});
        std::fs::write(dir.join(name).join("results.json"), json.to_string()).unwrap();
        std::fs::write(dir.join(name).join("feedback.md"), "ok").unwrap();
    }

    fn manifest(dir: &Path, index: usize, all: &[(&str, usize)]) {
        std::fs::create_dir_all(dir).unwrap();
        ShardManifest {
            shard: Shard { index, count: 2 },
            source: "abc".into(),
            all: all.iter().map(|(n, s)| (n.to_string(), *s)).collect(),
            tests: vec!["test-a".into()],
        }
        .write(dir)
        .unwrap();
    }

    #[test]
    fn merge_combines_and_refuses_missing_or_twice_graded() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b, out) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("out"));
        let all = [("ann", 1), ("bob", 2), ("cy", 2)];
        manifest(&a, 1, &all);
        manifest(&b, 2, &all);
        graded(&a, "ann", 3.0);
        graded(&b, "bob", 1.0);
        // cy is missing.
        let err = merge(&[a.clone(), b.clone()], &out).unwrap_err().to_string();
        assert!(err.contains("cy: not graded (shard 2/2)") && err.contains("grades only what is missing"), "{err}");
        assert!(!out.join("grades.csv").exists(), "a failed merge writes nothing");
        graded(&b, "cy", 2.0);
        // ann graded twice.
        graded(&b, "ann", 0.0);
        let err = merge(&[a.clone(), b.clone()], &out).unwrap_err().to_string();
        assert!(err.contains("ann: graded 2 times"), "{err}");
        std::fs::remove_dir_all(b.join("ann")).unwrap();
        assert_eq!(merge(&[a.clone(), b.clone()], &out).unwrap(), MergeSummary { merged: 3 });
        let csv = std::fs::read_to_string(out.join("grades.csv")).unwrap();
        assert_eq!(csv.lines().collect::<Vec<_>>(), ["submission,score,max_score,status,test-a,manual_points", "ann,3,3,graded,3,2", "bob,1,3,graded,1,2", "cy,2,3,graded,2,2"]);
        assert!(out.join("bob").join("feedback.md").is_file(), "graded folders are copied into the merged folder");
        assert!(merge(&[a.clone(), a.clone()], &out).unwrap_err().to_string().contains("the same folder"));
    }

    #[test]
    fn merge_refuses_shards_of_another_source_or_list() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        manifest(&a, 1, &[("ann", 1)]);
        manifest(&b, 2, &[("ann", 1), ("bob", 2)]);
        assert!(merge(&[a.clone(), b.clone()], &tmp.path().join("o")).unwrap_err().to_string().contains("same submissions"));
        let mut other = ShardManifest::read(&a).unwrap();
        other.source = "def".into();
        other.write(&b).unwrap();
        assert!(merge(&[a, b], &tmp.path().join("o")).unwrap_err().to_string().contains("same SOURCE.ipynb"));
        assert!(merge(&[tmp.path().join("nothing")], &tmp.path().join("o")).unwrap_err().to_string().contains("shard.json"));
    }
}
