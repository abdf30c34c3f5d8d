//! The grader on the fixture assignment in `tests/fixtures/assignment/`: each
//! submission below exercises rows of the issue's "what autograde must
//! survive", and all are graded in one parallel `autograde` run.
use replearn_kernel::grading::assign::assign;
use replearn_kernel::notebook::{cell_source, multiline, Notebook};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn source_path() -> PathBuf {
    root().join("tests/fixtures/assignment/source.ipynb")
}

fn grade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_replearn-grade"))
        .args(args)
        .output()
        .expect("replearn-grade runs")
}

fn student() -> Notebook {
    assign(&Notebook::read(&source_path()).unwrap()).unwrap()
}

fn index_of(nb: &Notebook, id: &str) -> usize {
    nb.cells()
        .iter()
        .position(|c| c["metadata"]["replearn"]["id"] == id)
        .unwrap_or_else(|| panic!("no cell {id}"))
}

fn set_code(nb: &mut Notebook, id: &str, code: &str) {
    let i = index_of(nb, id);
    nb.cells_mut()[i]["source"] = multiline(code);
}

/// The student version with every solution written as the instructor did.
fn solved() -> Notebook {
    let mut nb = student();
    set_code(
        &mut nb,
        "add",
        "fn add(a: i64, b: i64) -> i64 {\n    a + b\n}",
    );
    set_code(
        &mut nb,
        "scale",
        "fn scale(x: f64) -> f64 {\n    x * 2.0\n}",
    );
    set_code(&mut nb, "words", "fn count_words(text: &str) -> usize {\n    text.split_whitespace().count()\n}\nlet words = count_words(\"the quick brown fox\");");
    set_code(&mut nb, "total", "let total: f64 = Tensor::from_slice(&[1.0f64, 2.0, 3.0]).sum(Kind::Double).double_value(&[]);");
    let answer = index_of(&nb, "explain");
    nb.cells_mut()[answer]["source"] = multiline("It is smooth, and large errors cost more.");
    nb
}

fn write(dir: &Path, name: &str, nb: &Notebook) -> PathBuf {
    let path = dir.join(name);
    nb.write(&path).unwrap();
    path
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

fn test_result<'a>(results: &'a Value, name: &str) -> &'a Value {
    results["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"].as_str().unwrap().starts_with(name))
        .unwrap_or_else(|| panic!("no test {name}"))
}

fn score_of(results: &Value, name: &str) -> f64 {
    test_result(results, name)["score"].as_f64().unwrap()
}

fn output_of(results: &Value, name: &str) -> String {
    test_result(results, name)["output"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Two shards grade a list between them; a re-run keeps what is graded; merge
/// refuses a missing submission, and combines the shards once all are there.
/// Most submissions are unreadable files (graded at once, no kernel); one is
/// solved, so one shard really runs a notebook.
#[test]
fn shards_grade_a_list_between_them_and_merge_checks_it() {
    use replearn_kernel::grading::shard::shard_of;
    let dir = tempfile::tempdir().unwrap();
    let subs = dir.path().join("subs");
    std::fs::create_dir_all(&subs).unwrap();
    let mut paths = vec![write(&subs, "solved.ipynb", &solved())];
    for name in ["ann", "bob", "cy", "dee", "eve"] {
        let path = subs.join(format!("{name}.ipynb"));
        std::fs::write(&path, "{ not a notebook").unwrap();
        paths.push(path);
    }
    let run = |shard: &str, out: &Path| {
        let mut args: Vec<String> = ["autograde", "--source", source_path().to_str().unwrap(), "--out", out.to_str().unwrap(), "--timeout", "30", "--shard", shard]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(paths.iter().map(|p| p.to_string_lossy().to_string()));
        let output = grade(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(output.status.code(), Some(0), "{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    let (one, two) = (dir.path().join("shard-1"), dir.path().join("shard-2"));
    run("1/2", &one);
    run("2/2", &two);
    for name in ["solved", "ann", "bob", "cy", "dee", "eve"] {
        let (mine, other) = if shard_of(name, 2) == 1 { (&one, &two) } else { (&two, &one) };
        assert!(mine.join(name).join("results.json").is_file(), "{name} should be graded in {}", mine.display());
        assert!(!other.join(name).exists(), "{name} graded by the wrong shard");
    }
    // A re-run keeps everything; after losing a folder, it grades only that one.
    let solved_shard = if shard_of("solved", 2) == 1 { &one } else { &two };
    let label = if shard_of("solved", 2) == 1 { "1/2" } else { "2/2" };
    let again = run(label, solved_shard);
    assert!(again.contains("already graded with this source") && again.contains("graded 0 submission(s)"), "{again}");
    let lost = ["ann", "bob", "cy", "dee", "eve"].into_iter().find(|n| shard_of(n, 2) == shard_of("solved", 2)).expect("a broken file shares the solved one's shard");
    std::fs::remove_dir_all(solved_shard.join(lost)).unwrap();
    let merged = dir.path().join("merged");
    let refused = grade(&["merge", "--out", merged.to_str().unwrap(), one.to_str().unwrap(), two.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_ne!(refused.status.code(), Some(0));
    assert!(stderr.contains(&format!("{lost}: not graded")), "{stderr}");
    let rerun = run(label, solved_shard);
    assert!(rerun.contains("graded 1 submission(s), kept"), "{rerun}");
    let ok = grade(&["merge", "--out", merged.to_str().unwrap(), one.to_str().unwrap(), two.to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
    let csv = std::fs::read_to_string(merged.join("grades.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 6, "{csv}");
    assert!(rows.iter().any(|r| r.starts_with("solved,6,")), "{csv}");
    assert_eq!(rows.iter().filter(|r| r.contains("not graded")).count(), 5, "{csv}");
}

/// A memory limit the notebook process cannot start under is refused up
/// front, naming the minimum; with just that much, grading two submissions
/// two at a time finishes (it once hung for good under 1 GiB).
#[test]
fn a_memory_limit_too_small_is_refused_and_just_enough_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let subs = dir.path().join("subs");
    std::fs::create_dir_all(&subs).unwrap();
    let paths = [write(&subs, "a.ipynb", &solved()), write(&subs, "b.ipynb", &student())];
    let args = |mb: &str, out: &Path| -> Vec<String> {
        let mut a: Vec<String> = ["autograde", "--source", source_path().to_str().unwrap(), "--out", out.to_str().unwrap(), "--timeout", "20", "--jobs", "2", "--memory", mb]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(paths.iter().map(|p| p.to_string_lossy().to_string()));
        a
    };
    let started = std::time::Instant::now();
    let small = dir.path().join("small");
    let refused = grade(&args("1024", &small).iter().map(String::as_str).collect::<Vec<_>>());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--memory 1024") && stderr.contains("at least 1536 MB"), "{stderr}");
    assert!(started.elapsed().as_secs() < 10, "refused at once");
    let enough = dir.path().join("enough");
    let graded = grade(&args("1536", &enough).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(graded.status.code(), Some(0), "{}", String::from_utf8_lossy(&graded.stderr));
    assert_eq!(read_json(&enough.join("a/results.json"))["score"], 6.0);
    assert_eq!(read_json(&enough.join("b/results.json"))["score"], 0.0);
}

#[test]
fn autograde_survives_every_row_and_writes_results_for_all() {
    let dir = tempfile::tempdir().unwrap();
    let subs = dir.path().join("subs");
    std::fs::create_dir_all(&subs).unwrap();
    let mut paths = Vec::new();

    paths.push(write(&subs, "perfect.ipynb", &solved()));
    paths.push(write(&subs, "untouched.ipynb", &student()));

    // Crashes in three different cells: a stack overflow (in the test that
    // calls it), an endless loop, a huge allocation. Only their tests fail;
    // `base` and `add`, defined before, still serve the later hidden test.
    let mut crashes = solved();
    set_code(
        &mut crashes,
        "scale",
        "fn scale(x: f64) -> f64 {\n    if x > 0.0 { scale(x + 1.0) + 1.0 } else { 0.0 }\n}",
    );
    set_code(&mut crashes, "words", "fn count_words(_text: &str) -> usize {\n    loop {}\n}\nlet words = count_words(\"the quick brown fox\");");
    set_code(
        &mut crashes,
        "total",
        "let big = vec![1u8; 8 << 30];\nlet total: f64 = big.len() as f64;",
    );
    paths.push(write(&subs, "crashes.ipynb", &crashes));

    // process::exit, abort, reading stdin.
    let mut exits = solved();
    set_code(&mut exits, "scale", "fn scale(x: f64) -> f64 {\n    let mut line = String::new();\n    std::io::stdin().read_line(&mut line).unwrap();\n    x * 2.0\n}");
    set_code(&mut exits, "words", "fn count_words(_text: &str) -> usize {\n    std::process::exit(3)\n}\nlet words = count_words(\"the quick brown fox\");");
    set_code(
        &mut exits,
        "total",
        "let total: f64 = std::process::abort();",
    );
    paths.push(write(&subs, "exits.ipynb", &exits));

    // A compile error in `add`, and text that looks like results on stdout
    // and stderr, plus a forged credit, in cells that otherwise work.
    let mut noisy = solved();
    set_code(
        &mut noisy,
        "add",
        "fn add(a: i64, b: i64) -> i64 {\n    a + b as f64\n}",
    );
    set_code(
        &mut noisy,
        "scale",
        "fn scale(x: f64) -> f64 {\n    println!(\"score: 100/100\\nREPLEARN_CELL_STARTED\");\n    eprintln!(\"warning: this library is deprecated\");\n    println!(\"EVCXR_BEGIN_CONTENT application/vnd.replearn.credit+json\\n{{\\\"fraction\\\": 1.0, \\\"message\\\": \\\"forged\\\", \\\"token\\\": \\\"guess\\\"}}\\nEVCXR_END_CONTENT\");\n    x * 1.75\n}",
    );
    paths.push(write(&subs, "noisy.ipynb", &noisy));

    // Tampering: edited test and locked cells, a split solution, an edited
    // copy of a solution, a solution retyped as markdown, cells reordered,
    // a test and the answer deleted, a cell added.
    let mut tampered = solved();
    set_code(&mut tampered, "test-words", "// nothing to test here");
    set_code(
        &mut tampered,
        "setup",
        "let base: i64 = 0;\nlet greeting = String::new();",
    );
    let add = index_of(&tampered, "add");
    let mut first_part = tampered.cells()[add].clone();
    first_part["source"] = multiline("fn offset() -> i64 {\n    0\n}");
    tampered.cells_mut()[add]["source"] =
        multiline("fn add(a: i64, b: i64) -> i64 {\n    a + b + offset()\n}");
    tampered.cells_mut().insert(add, first_part);
    let words = index_of(&tampered, "words");
    let mut wrong_copy = tampered.cells()[words].clone();
    wrong_copy["source"] = multiline(
        "fn count_words(_text: &str) -> usize {\n    0\n}\nlet words = count_words(\"\");",
    );
    tampered.cells_mut().insert(words, wrong_copy);
    let scale = index_of(&tampered, "scale");
    tampered.cells_mut()[scale]["cell_type"] = json!("markdown");
    let total = index_of(&tampered, "total");
    let total_cell = tampered.cells_mut().remove(total);
    tampered.cells_mut().insert(1, total_cell);
    let test_total = index_of(&tampered, "test-total");
    tampered.cells_mut().remove(test_total);
    let explain = index_of(&tampered, "explain");
    tampered.cells_mut().remove(explain);
    tampered.cells_mut().push(json!({"cell_type": "code", "metadata": {}, "source": "panic!(\"added\");", "outputs": [], "execution_count": null}));
    paths.push(write(&subs, "tampered.ipynb", &tampered));

    std::fs::write(subs.join("broken.ipynb"), "{\"cells\": [").unwrap();
    paths.push(subs.join("broken.ipynb"));

    let out = dir.path().join("graded");
    let mut args: Vec<String> = [
        "autograde",
        "--jobs",
        "2",
        "--timeout",
        "10",
        "--memory",
        "2048",
        "--source",
    ]
    .map(String::from)
    .to_vec();
    args.push(source_path().display().to_string());
    args.push("--out".into());
    args.push(out.display().to_string());
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let before: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let result = grade(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    let all_logs = || -> String {
        std::fs::read_dir(&out)
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        std::fs::read_to_string(e.path().join("grader.log")).unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        result.status.code(),
        Some(0),
        "autograde failed:\n{stdout}\n{stderr}\n{}",
        all_logs()
    );
    let after: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert_eq!(before, after, "a submission was modified");
    let log =
        |name: &str| std::fs::read_to_string(out.join(name).join("grader.log")).unwrap_or_default();
    let results = |name: &str| read_json(&out.join(name).join("results.json"));

    let perfect = results("perfect");
    assert_eq!(perfect["score"], 6.0, "{perfect:#}\n{}", log("perfect"));
    assert_eq!(perfect["extra_data"]["max_score"], 6.0);
    assert_eq!(perfect["extra_data"]["manual_points"], 2.0);
    assert!(output_of(&perfect, "test-add").contains("add is right"));
    let answers = std::fs::read_to_string(out.join("perfect/answers.md")).unwrap();
    assert!(answers.contains("large errors cost more"), "{answers}");

    let untouched = results("untouched");
    assert_eq!(untouched["score"], 0.0, "{untouched:#}");
    assert!(output_of(&untouched, "test-add")
        .contains("FIXME: the code of cell 'add' is not written yet"));

    let crashes = results("crashes");
    let crash_log = log("crashes");
    assert_eq!(
        score_of(&crashes, "test-add"),
        1.0,
        "{crashes:#}\n{crash_log}"
    );
    assert!(
        output_of(&crashes, "test-scale").contains("stack overflow"),
        "{crashes:#}"
    );
    assert!(
        output_of(&crashes, "test-words").contains("timed out after 10 s"),
        "{crashes:#}"
    );
    assert!(
        output_of(&crashes, "test-total").contains("out of memory")
            && output_of(&crashes, "test-total").contains("2048 MB"),
        "{crashes:#}"
    );
    assert_eq!(
        score_of(&crashes, "test-hidden"),
        1.0,
        "replayed cells must serve later tests: {crashes:#}"
    );
    assert_eq!(crashes["score"], 2.0);
    assert!(crashes["output"]
        .as_str()
        .unwrap()
        .contains("were run again"));

    let exits = results("exits");
    assert_eq!(
        score_of(&exits, "test-add"),
        1.0,
        "{exits:#}\n{}",
        log("exits")
    );
    assert!(
        output_of(&exits, "test-scale").contains("timed out"),
        "{exits:#}"
    );
    assert!(
        output_of(&exits, "test-words").contains("exit status 3"),
        "{exits:#}"
    );
    assert!(
        output_of(&exits, "test-total").contains("aborted"),
        "{exits:#}"
    );
    assert_eq!(score_of(&exits, "test-hidden"), 1.0, "{exits:#}");

    let noisy = results("noisy");
    let add_output = output_of(&noisy, "test-add");
    assert!(
        add_output.contains("does not compile") && add_output.contains("a + b as f64"),
        "{noisy:#}"
    );
    assert!(
        add_output.contains("solution cell 'add'"),
        "the failing dependency is named: {add_output}"
    );
    assert!(
        (score_of(&noisy, "test-scale") - 1.25).abs() < 1e-9,
        "partial credit 0.625 of 2 points: {noisy:#}"
    );
    assert!(output_of(&noisy, "test-scale").contains("off by 0.375"));
    assert_eq!(
        score_of(&noisy, "test-words"),
        1.0,
        "stderr warnings must not fail a test: {noisy:#}"
    );
    assert_eq!(noisy["score"], 3.25);
    let hidden = output_of(&noisy, "test-hidden");
    assert!(
        !hidden.contains("hidden_helper") && !hidden.contains("greeting.len"),
        "hidden source leaked: {hidden}"
    );
    let feedback = std::fs::read_to_string(out.join("noisy/feedback.md")).unwrap();
    assert!(
        !feedback.contains("hidden_helper") && feedback.contains("test-hidden"),
        "{feedback}"
    );

    let tampered = results("tampered");
    assert_eq!(tampered["score"], 6.0, "{tampered:#}\n{}", log("tampered"));
    let notes = tampered["output"].as_str().unwrap();
    for expected in [
        "You changed test cell 'test-words'",
        "You changed locked cell 'setup'",
        "appears 2 times",
        "changed to a non-code cell",
        "not run",
    ] {
        assert!(
            notes.contains(expected),
            "missing note {expected:?} in:\n{notes}"
        );
    }
    assert!(std::fs::read_to_string(out.join("tampered/answers.md"))
        .unwrap()
        .contains("(no answer)"));

    let broken = results("broken");
    assert_eq!(broken["score"], 0.0);
    assert!(
        broken["output"]
            .as_str()
            .unwrap()
            .contains("broken.ipynb is not a valid Jupyter notebook"),
        "{broken:#}"
    );
    assert_eq!(broken["tests"].as_array().unwrap().len(), 5);

    // The same seed for everyone: the locked cell's draw is identical.
    let draw = |name: &str| {
        let nb = Notebook::read(&out.join(name).join("graded.ipynb")).unwrap();
        let i = index_of(&nb, "seeded");
        nb.cells()[i]["outputs"].to_string()
    };
    assert!(
        draw("perfect").contains("seeded draw: 0.4962"),
        "{}",
        draw("perfect")
    );
    assert_eq!(draw("perfect"), draw("crashes"));

    let csv = std::fs::read_to_string(out.join("grades.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "submission,score,max_score,status,test-add,test-scale,test-words,test-total,test-hidden,manual_points");
    assert!(lines.contains(&"perfect,6,6,graded,1,2,1,1,1,2"), "{csv}");
    assert!(
        lines.contains(&"noisy,3.25,6,graded,0,1.25,1,1,0,2"),
        "{csv}"
    );
    assert!(
        lines.contains(&"broken,0,6,not graded,0,0,0,0,0,2"),
        "{csv}"
    );
    assert_eq!(lines.len(), 1 + paths.len());
}

#[test]
fn validate_accepts_the_fixture_and_rejects_free_points() {
    let ok = grade(&[
        "validate",
        "--timeout",
        "30",
        source_path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        stdout.contains("| test-hidden (hidden) | 1 | 1 | 0 |"),
        "{stdout}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut source = Notebook::read(&source_path()).unwrap();
    let i = index_of(&source, "test-words");
    source.cells_mut()[i]["source"] = multiline("assert!(true);");
    let free = write(dir.path(), "free.ipynb", &source);
    let bad = grade(&["validate", "--timeout", "30", free.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout)
        .contains("test 'test-words' gives 1 points to the student version"));
}

/// Variant solutions prove the tests: the fixture's right variant keeps every
/// point and its wrong ones lose what they claim; a wrong variant no test
/// catches, a miscounted one and a right one a test rejects are each named.
#[test]
fn validate_grades_variant_solutions() {
    let ok = grade(&["validate", "--timeout", "30", source_path().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&ok.stderr));
    for row in [
        "| add-commuted | add | right | 0 | 0 |",
        "| add-minus | add | wrong | 2 | 2 |",
        "| scale-close | scale | wrong | 0.75 | 0.75 |",
    ] {
        assert!(stdout.contains(row), "{row} missing:\n{stdout}");
    }
    let dir = tempfile::tempdir().unwrap();
    let mut source = Notebook::read(&source_path()).unwrap();
    let variant = |id: &str, code: &str, meta: Value| {
        let mut cell = source.cells()[index_of(&source, "add-minus")].clone();
        cell["metadata"]["replearn"] = meta;
        cell["metadata"]["replearn"]["id"] = json!(id);
        cell["source"] = multiline(code);
        cell
    };
    let uncaught = variant("add-plus-zero", "fn add(a: i64, b: i64) -> i64 {\n    a + b + 0\n}", json!({"kind": "variant", "of": "add", "correct": false, "loses": 1}));
    let miscounted = variant("add-one-more", "fn add(a: i64, b: i64) -> i64 {\n    a + b + 1\n}", json!({"kind": "variant", "of": "add", "correct": false, "loses": 1}));
    let rejected = variant("add-wrapping", "fn add(a: i64, b: i64) -> i64 {\n    a.wrapping_add(b) + 1\n}", json!({"kind": "variant", "of": "add", "correct": true}));
    let at = index_of(&source, "add") + 1;
    source.cells_mut().splice(at..at, [uncaught, miscounted, rejected]);
    let path = write(dir.path(), "variants.ipynb", &source);
    let bad = grade(&["validate", "--timeout", "30", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("wrong variant 'add-plus-zero' of 'add' keeps every point: no test catches it"), "{stdout}");
    assert!(stdout.contains("wrong variant 'add-one-more' of 'add' loses 2 point(s), its metadata says 1"), "{stdout}");
    assert!(stdout.contains("correct variant 'add-wrapping' of 'add' loses 2 point(s)"), "{stdout}");
    // The student version has no variant.
    let student = serde_json::to_string(&student().json).unwrap();
    assert!(!student.contains("\"variant\"") && !student.contains("a - b"), "variants leaked into the student version");
}

#[test]
fn check_runs_a_students_notebook_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let mut nb = student();
    set_code(
        &mut nb,
        "add",
        "fn add(a: i64, b: i64) -> i64 {\n    a + b\n}",
    );
    set_code(&mut nb, "test-words", "assert!(true);");
    let path = write(dir.path(), "mine.ipynb", &nb);
    let before = std::fs::read(&path).unwrap();
    let result = grade(&["check", "--timeout", "30", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert_eq!(
        result.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("test-add") && l.contains("1 / 1") && l.contains("passed")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("test-scale") && l.contains("FAILED")),
        "{stdout}"
    );
    assert!(stdout.contains("FIXME: the code of cell 'scale' is not written yet"));
    assert!(stdout.contains("hidden tests: 1 more test(s), 1 points"));
    assert!(stdout.contains("written answers: 2 points"));
    assert!(stdout.contains("you changed cell 'test-words'"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "check must not modify the notebook"
    );
}

#[test]
fn a_malformed_source_is_an_instructor_error_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = Notebook::read(&source_path()).unwrap();
    let i = index_of(&source, "add");
    let text = cell_source(&source.cells()[i]).replace("// END SOLUTION", "");
    source.cells_mut()[i]["source"] = multiline(&text);
    let bad = write(dir.path(), "bad.ipynb", &source);
    let sub = write(dir.path(), "sub.ipynb", &student());
    let out = dir.path().join("out");
    let result = grade(&[
        "autograde",
        "--source",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        sub.to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("bad.ipynb: cell 5 (id \"add\"): \"// BEGIN SOLUTION\" is not closed"),
        "{stderr}"
    );
    assert!(
        !out.join("sub").exists(),
        "nothing is graded against a malformed source"
    );
}

#[test]
fn the_gradescope_bundle_grades_a_submission_and_always_writes_results() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("bundle.zip");
    let made = Command::new(root().join("scripts/gradescope_bundle.sh"))
        .arg(source_path())
        .arg(&zip)
        .args(["30", "2048"])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let python = root().join(".venv/bin/python");
    let autograder = dir.path().join("autograder");
    let listing = Command::new(&python)
        .args(["-c", "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nz.extractall(sys.argv[2])\nfor i in z.infolist(): print(oct(i.external_attr >> 16), i.filename)"])
        .arg(&zip)
        .arg(autograder.join("source"))
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout).to_string();
    for (executable, name) in [
        (true, "setup.sh"),
        (true, "run_autograder"),
        (false, "assignment/source.ipynb"),
        (false, "replearn/Cargo.toml"),
    ] {
        let mode = listing
            .lines()
            .find_map(|l| l.strip_suffix(&format!(" {name}")))
            .unwrap_or_else(|| panic!("{name} missing in:\n{listing}"));
        let mode = u32::from_str_radix(mode.trim_start_matches("0o"), 8).unwrap();
        assert_eq!(mode & 0o111 != 0, executable, "{name} has mode {mode:o}");
    }
    assert!(
        !listing.contains("checkpoints/"),
        "build outputs must not be in the bundle:\n{listing}"
    );
    let config = std::fs::read_to_string(autograder.join("source/assignment/config.sh")).unwrap();
    assert!(
        config.contains("TIMEOUT=\"30\"") && config.contains("MEMORY_MB=\"2048\""),
        "{config}"
    );

    let run = || {
        Command::new("bash")
            .arg(autograder.join("source/run_autograder"))
            .env("AUTOGRADER_ROOT", &autograder)
            .env("REPLEARN_GRADE", env!("CARGO_BIN_EXE_replearn-grade"))
            .output()
            .unwrap()
    };
    std::fs::create_dir_all(autograder.join("submission")).unwrap();
    let empty = run();
    assert!(empty.status.success());
    let results = read_json(&autograder.join("results/results.json"));
    assert_eq!(results["score"], 0);
    assert!(results["output"]
        .as_str()
        .unwrap()
        .contains("No .ipynb file was found"));

    write(&autograder.join("submission"), "my work.ipynb", &solved());
    let graded = run();
    assert!(
        graded.status.success(),
        "{}",
        String::from_utf8_lossy(&graded.stderr)
    );
    let results = read_json(&autograder.join("results/results.json"));
    assert_eq!(
        results["score"],
        6.0,
        "{results:#}\n{}",
        String::from_utf8_lossy(&graded.stderr)
    );
}
