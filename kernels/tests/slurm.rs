//! The Slurm recipe for real: `scripts/cluster/test-slurm.sh` starts a
//! one-node Slurm (Debian's slurm-wlm, which `make test` installs), submits
//! `grade-slurm.sbatch` as an array of two tasks over four submissions (one
//! the student version, which runs a kernel; three unreadable files), and
//! merges the two shards; the daemons are stopped afterwards.
use std::path::Path;
use std::process::Command;

#[test]
fn a_slurm_array_grades_two_shards_that_merge_into_one_csv() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let subs = dir.path().join("subs");
    std::fs::create_dir_all(&subs).unwrap();
    let grade = Path::new(env!("CARGO_BIN_EXE_replearn-grade"));
    let source = root.join("tests/fixtures/assignment/source.ipynb");
    let assigned = Command::new(grade).arg("assign").arg(&source).arg("-o").arg(subs.join("student.ipynb")).output().unwrap();
    assert!(assigned.status.success(), "{}", String::from_utf8_lossy(&assigned.stderr));
    for name in ["ann", "bob", "cy"] {
        std::fs::write(subs.join(format!("{name}.ipynb")), "{ not a notebook").unwrap();
    }
    let out = dir.path().join("out");
    let run = Command::new(root.join("scripts/cluster/test-slurm.sh")).arg(&source).arg(&subs).arg(&out).current_dir(root).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "the Slurm recipe failed (make test installs slurm-wlm; the daemons need root):\n{stdout}\n{stderr}");
    let csv = std::fs::read_to_string(out.join("all/grades.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 4, "{csv}");
    assert!(rows.contains(&"student,0,6,graded,0,0,0,0,0,2"), "{csv}");
    assert_eq!(rows.iter().filter(|r| r.contains(",not graded,")).count(), 3, "{csv}");
    for shard in ["shard-1", "shard-2"] {
        assert!(out.join(shard).join("shard.json").is_file(), "{shard} did not run:\n{stdout}");
    }
    let left = Command::new("pgrep").args(["-f", "slurm-test|replearn-slurm"]).output().unwrap();
    assert!(left.stdout.is_empty(), "daemons left running: {}", String::from_utf8_lossy(&left.stdout));
}
