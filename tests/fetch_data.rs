//! `scripts/fetch_data.py stl10` end to end against a local HTTP server: an
//! interrupted download resumes, the checksum is checked, the archive is
//! unpacked into files `Stl10::load` reads; offline and damaged cases explain
//! themselves.
use replearn::data::{ImageSet, Stl10, Stl10Split};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tch::{Kind, Tensor};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Serves `body` to `connections` requests, honouring `Range: bytes=N-`; the
/// first response stops halfway, as an interrupted download does.
fn serve(body: Vec<u8>, connections: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/stl10_binary.tar.gz",
        listener.local_addr().unwrap()
    );
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().take(connections).enumerate() {
            let mut stream = stream.unwrap();
            let mut start = 0;
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(range) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    start = range.trim().trim_end_matches('-').parse().unwrap();
                }
                if line.trim().is_empty() {
                    break;
                }
            }
            let rest = &body[start..];
            let status = if start > 0 {
                "206 Partial Content"
            } else {
                "200 OK"
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                rest.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            let sent = if n == 0 { rest.len() / 2 } else { rest.len() };
            stream.write_all(&rest[..sent]).unwrap();
        }
    });
    url
}

fn fetch(dest: &Path, url: &str, md5: &str) -> Output {
    Command::new(root().join(".venv/bin/python"))
        .arg(root().join("scripts/fetch_data.py"))
        .args(["stl10", "--url", url, "--md5", md5, "--dest"])
        .arg(dest)
        .output()
        .unwrap()
}

fn md5(path: &Path) -> String {
    let out = Command::new(root().join(".venv/bin/python"))
        .args([
            "-c",
            "import hashlib, sys; print(hashlib.md5(open(sys.argv[1], 'rb').read()).hexdigest())",
        ])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn stl10_download_resumes_checks_and_unpacks() {
    let work = tempfile::tempdir().unwrap();
    let stage = work.path().join("stage");
    tch::manual_seed(0);
    let images = Tensor::randint(256, [3, 3, 96, 96], (Kind::Uint8, tch::Device::Cpu));
    let labels = Tensor::from_slice(&[0i64, 9, 4]);
    Stl10::write(
        stage.join("stl10_binary"),
        Stl10Split::Train,
        &images,
        Some(&labels),
    )
    .unwrap();
    let archive = work.path().join("stl10_binary.tar.gz");
    let tar = Command::new("tar")
        .arg("czf")
        .arg(&archive)
        .arg("-C")
        .arg(&stage)
        .arg("stl10_binary")
        .status()
        .unwrap();
    assert!(tar.success());
    let body = std::fs::read(&archive).unwrap();
    let sum = md5(&archive);

    let dest = work.path().join("data");
    let url = serve(body.clone(), 2);
    let first = fetch(&dest, &url, &sum);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("run this command again to resume"),
        "{stderr}"
    );
    let kept = std::fs::metadata(dest.join("stl10_binary.tar.gz.part"))
        .unwrap()
        .len() as usize;
    assert!(
        kept > 0 && kept < body.len(),
        "kept {kept} of {}",
        body.len()
    );

    let second = fetch(&dest, &url, &sum);
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let data = Stl10::load(dest.join("stl10_binary"), Stl10Split::Train, None).unwrap();
    assert!(data.images_u8().equal(&images));
    assert_eq!(
        Vec::<i64>::try_from(data.labels().unwrap()).unwrap(),
        [0, 9, 4]
    );
}

#[test]
fn offline_and_damaged_downloads_explain_themselves() {
    let work = tempfile::tempdir().unwrap();
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let offline = fetch(work.path(), &format!("http://{closed}/x.tar.gz"), "0");
    let stderr = String::from_utf8_lossy(&offline.stderr);
    assert_eq!(offline.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Without internet") && stderr.contains("stl10_binary.tar.gz"),
        "{stderr}"
    );

    std::fs::write(work.path().join("stl10_binary.tar.gz"), b"not an archive").unwrap();
    let damaged = fetch(work.path(), "http://unused.invalid/", "0123");
    let stderr = String::from_utf8_lossy(&damaged.stderr);
    assert_eq!(damaged.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("damaged"), "{stderr}");
    assert!(work.path().join("stl10_binary.tar.gz.bad").exists());
}
