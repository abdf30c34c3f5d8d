//! The proxy between Jupyter and a kernel (a spare, or one started for this
//! notebook): it passes every message, re-signed, and makes a cell behave as
//! the grader judges it.
//!
//! - A cell that panics or returns an error through `?` ends with an `error`
//!   reply and an `error` message (the panic's message and the line of the
//!   cell), not with evcxr's `ok`: the notebook process marks such cells on
//!   stdout (see `protocol::marks`), and the proxy turns the marks into the
//!   error.
//! - Cells run one at a time: the proxy holds later execute requests, and
//!   when a cell fails it answers the held ones `aborted` (Jupyter's
//!   `stop_on_error`), so "Run All" stops at the failing cell.
//! - A cell's reply and its `idle` status are held until its output has
//!   settled, so nothing it printed arrives after it ended (in the next
//!   cell's output).
//! - Execution counts start at 1 for the notebook, whatever the kernel ran
//!   before it was taken.
//!
//! A client that goes away never ends the proxy (Jupyter Server opens
//! short-lived channels): what cannot reach it is logged and dropped.
use super::wire::{resign, ConnectionInfo, Covers, Signer, DELIMITER};
use crate::protocol::{marks, PanicReport};
use anyhow::{Context, Result};
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

/// How long a finished cell's output may keep arriving before its reply goes out.
const SETTLE: Duration = Duration::from_millis(40);

/// Serves Jupyter's sockets (`front`) by passing every message to and from
/// the kernel at `back`. Returns when the kernel's sockets fail; the caller
/// ends it sooner by dropping the future.
pub async fn proxy(front: &ConnectionInfo, back: &ConnectionInfo) -> Result<()> {
    let front_signer = Signer::new(&front.key);
    let back_signer = Signer::new(&back.key);
    // The shell and stdin sockets share one routing id: the kernel sends an
    // input request to the ids of the execute request it answers.
    let routing_id = zeromq::util::PeerIdentity::new();
    let dealer = |id: Option<&zeromq::util::PeerIdentity>| {
        let mut options = zeromq::SocketOptions::default();
        if let Some(id) = id {
            options.peer_identity(id.clone());
        }
        zeromq::DealerSocket::with_options(options)
    };
    let mut back_shell = dealer(Some(&routing_id));
    let mut back_stdin = dealer(Some(&routing_id));
    let mut back_control = dealer(None);
    let mut back_iopub = zeromq::SubSocket::new();
    back_shell.connect(&back.endpoint(back.shell_port)).await?;
    back_stdin.connect(&back.endpoint(back.stdin_port)).await?;
    back_control
        .connect(&back.endpoint(back.control_port))
        .await?;
    back_iopub.connect(&back.endpoint(back.iopub_port)).await?;
    back_iopub.subscribe("").await?;

    let mut front_shell = zeromq::RouterSocket::new();
    let mut front_stdin = zeromq::RouterSocket::new();
    let mut front_control = zeromq::RouterSocket::new();
    let mut front_iopub = zeromq::PubSocket::new();
    let mut front_hb = zeromq::RepSocket::new();
    for (socket, port) in [
        (&mut front_shell, front.shell_port),
        (&mut front_stdin, front.stdin_port),
        (&mut front_control, front.control_port),
    ] {
        socket
            .bind(&front.endpoint(port))
            .await
            .with_context(|| format!("binding Jupyter's port {port}"))?;
    }
    front_iopub.bind(&front.endpoint(front.iopub_port)).await?;
    front_hb.bind(&front.endpoint(front.hb_port)).await?;

    let signers = Signers {
        front: front_signer,
        back: back_signer,
    };
    let mut cells = Cells::default();
    let shell_and_iopub = async {
        loop {
            let deadline = cells.deadline().unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                m = front_shell.recv() => {
                    let Some(frames) = from_client(m) else { continue };
                    let Some(frames) = resign(frames, Some(&signers.front), &signers.back, Covers::AllParts) else { continue };
                    for out in cells.request(frames) {
                        back_shell.send(message(out)).await?;
                    }
                }
                m = back_shell.recv() => {
                    let frames = m?.into_vec();
                    if let Some(frames) = cells.reply(frames) {
                        send_front(&mut front_shell, &signers, frames, "a reply").await;
                    }
                }
                m = back_iopub.recv() => {
                    let frames = m?.into_vec();
                    if let Some(frames) = cells.output(frames) {
                        send_iopub(&mut front_iopub, &signers, frames).await;
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    let Some(done) = cells.release(Instant::now()) else { continue };
                    for frames in done.iopub_before {
                        send_iopub(&mut front_iopub, &signers, frames).await;
                    }
                    send_front(&mut front_shell, &signers, done.reply, "a reply").await;
                    send_iopub(&mut front_iopub, &signers, done.idle).await;
                    for aborted in done.aborted {
                        send_iopub(&mut front_iopub, &signers, aborted.busy).await;
                        send_front(&mut front_shell, &signers, aborted.reply, "an aborted reply").await;
                        send_iopub(&mut front_iopub, &signers, aborted.idle).await;
                    }
                    if let Some(next) = cells.start_next() {
                        back_shell.send(message(next)).await?;
                    }
                }
            }
        }
        #[allow(unreachable_code)]
        Ok::<(), anyhow::Error>(())
    };
    tokio::select! {
        r = shell_and_iopub => r,
        r = pair(&signers, front_stdin, back_stdin) => r,
        r = pair(&signers, front_control, back_control) => r,
        r = heartbeat(front_hb) => r,
    }
}

struct Signers {
    front: Signer,
    back: Signer,
}

fn message(frames: Vec<Bytes>) -> ZmqMessage {
    ZmqMessage::try_from(frames).expect("a message has frames")
}

/// A message from a Jupyter client; `None` (logged) when the client reset its connection.
fn from_client(m: Result<ZmqMessage, zeromq::ZmqError>) -> Option<Vec<Bytes>> {
    match m {
        Ok(m) => Some(m.into_vec()),
        Err(e) => {
            dropped("a connection", &e);
            None
        }
    }
}

/// Signs `frames` (from the kernel, or made here) for Jupyter and sends them
/// to the client they name; a client that has gone is logged.
async fn send_front(front: &mut zeromq::RouterSocket, signers: &Signers, frames: Vec<Bytes>, what: &str) {
    let Some(frames) = resign(frames, None, &signers.front, Covers::FourParts) else { return };
    if let Err(e) = front.send(message(frames)).await {
        dropped(what, &e);
    }
}

async fn send_iopub(front: &mut zeromq::PubSocket, signers: &Signers, frames: Vec<Bytes>) {
    let Some(frames) = resign(frames, None, &signers.front, Covers::FourParts) else { return };
    if let Err(e) = front.send(message(frames)).await {
        dropped("an iopub message", &e);
    }
}

/// A router facing Jupyter and a dealer facing the kernel, both ways, as they are.
async fn pair(signers: &Signers, mut front: zeromq::RouterSocket, mut back: zeromq::DealerSocket) -> Result<()> {
    loop {
        tokio::select! {
            m = front.recv() => {
                let Some(frames) = from_client(m) else { continue };
                // A message with a wrong signature is dropped, as a kernel would.
                if let Some(frames) = resign(frames, Some(&signers.front), &signers.back, Covers::AllParts) {
                    back.send(message(frames)).await?;
                }
            }
            m = back.recv() => {
                send_front(&mut front, signers, m?.into_vec(), "a reply").await;
            }
        }
    }
}

async fn heartbeat(mut hb: zeromq::RepSocket) -> Result<()> {
    loop {
        match hb.recv().await {
            Ok(ping) => {
                if let Err(e) = hb.send(ping).await {
                    dropped("a heartbeat", &e);
                }
            }
            Err(e) => dropped("a heartbeat connection", &e),
        }
    }
}

/// Logs what was lost with a Jupyter client that went away.
fn dropped(what: &str, error: &zeromq::ZmqError) {
    eprintln!("replearn-kernel: dropped {what} of a client that has gone ({error})");
}

/// The parts of a message: routing frames, then after the delimiter the
/// signature, header, parent header, metadata, content and buffers.
struct Parts {
    delimiter: usize,
    frames: Vec<Bytes>,
}

impl Parts {
    fn new(frames: Vec<Bytes>) -> Option<Parts> {
        let delimiter = frames.iter().position(|f| &f[..] == DELIMITER)?;
        (frames.len() >= delimiter + 6).then_some(Parts { delimiter, frames })
    }

    fn json(&self, i: usize) -> Value {
        serde_json::from_slice(&self.frames[self.delimiter + 2 + i]).unwrap_or(Value::Null)
    }

    fn header(&self) -> Value {
        self.json(0)
    }

    fn parent(&self) -> Value {
        self.json(1)
    }

    fn content(&self) -> Value {
        self.json(3)
    }

    fn msg_type(&self) -> String {
        self.header()["msg_type"].as_str().unwrap_or_default().to_string()
    }

    fn parent_id(&self) -> String {
        self.parent()["msg_id"].as_str().unwrap_or_default().to_string()
    }

    fn with_content(mut self, content: &Value) -> Vec<Bytes> {
        self.frames[self.delimiter + 5] = Bytes::from(content.to_string());
        self.frames
    }
}

/// A new message (signed later) answering `request_header`.
fn new_message(prefix: Vec<Bytes>, template_header: &Value, parent: &Value, msg_type: &str, content: Value) -> Vec<Bytes> {
    let mut header = template_header.clone();
    header["msg_id"] = json!(random_id());
    header["msg_type"] = json!(msg_type);
    let mut frames = prefix;
    frames.push(Bytes::from_static(DELIMITER));
    frames.push(Bytes::new());
    for part in [header, parent.clone(), json!({}), content] {
        frames.push(Bytes::from(part.to_string()));
    }
    frames
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut bytes);
    }
    hex::encode(bytes)
}

/// The cell being run, and what the proxy holds for it.
struct Running {
    id: String,
    code: String,
    stop_on_error: bool,
    count: Option<u64>,
    failed: Option<String>,
    panic: Option<PanicReport>,
    stderr: String,
    reply: Option<Parts>,
    idle: Option<Parts>,
    ready_at: Option<Instant>,
}

/// What goes out when a cell ends, in this order.
struct Released {
    iopub_before: Vec<Vec<Bytes>>,
    reply: Vec<Bytes>,
    idle: Vec<Bytes>,
    aborted: Vec<Aborted>,
}

struct Aborted {
    busy: Vec<Bytes>,
    reply: Vec<Bytes>,
    idle: Vec<Bytes>,
}

/// The execute requests of one notebook: the one running, and the ones held
/// until it ends.
#[derive(Default)]
struct Cells {
    count: u64,
    running: Option<Running>,
    queue: VecDeque<Vec<Bytes>>,
}

impl Cells {
    /// A request from Jupyter (already signed for the kernel): what to send on now.
    fn request(&mut self, frames: Vec<Bytes>) -> Vec<Vec<Bytes>> {
        let is_execute = Parts::new(frames.clone()).is_some_and(|p| p.msg_type() == "execute_request");
        if !is_execute {
            return vec![frames];
        }
        if self.running.is_some() {
            self.queue.push_back(frames);
            return Vec::new();
        }
        self.start(frames).into_iter().collect()
    }

    fn start(&mut self, frames: Vec<Bytes>) -> Option<Vec<Bytes>> {
        let parts = Parts::new(frames.clone())?;
        let content = parts.content();
        self.running = Some(Running {
            id: parts.header()["msg_id"].as_str().unwrap_or_default().to_string(),
            code: content["code"].as_str().unwrap_or_default().to_string(),
            stop_on_error: content["stop_on_error"].as_bool().unwrap_or(true),
            count: None,
            failed: None,
            panic: None,
            stderr: String::new(),
            reply: None,
            idle: None,
            ready_at: None,
        });
        Some(frames)
    }

    /// The next held request, once the running cell has ended.
    fn start_next(&mut self) -> Option<Vec<Bytes>> {
        while self.running.is_none() {
            let frames = self.queue.pop_front()?;
            if let Some(out) = self.start(frames) {
                return Some(out);
            }
        }
        None
    }

    fn running_for(&mut self, parts: &Parts) -> Option<&mut Running> {
        let id = parts.parent_id();
        self.running.as_mut().filter(|r| r.id == id)
    }

    /// A shell message from the kernel: passed on, or held (the running cell's reply).
    fn reply(&mut self, frames: Vec<Bytes>) -> Option<Vec<Bytes>> {
        let Some(parts) = Parts::new(frames.clone()) else { return Some(frames) };
        let is_reply = parts.msg_type() == "execute_reply";
        match self.running_for(&parts) {
            Some(running) if is_reply => {
                running.reply = Some(parts);
                running.settle();
                None
            }
            _ => Some(frames),
        }
    }

    /// An iopub message from the kernel: passed on (marks removed, counts
    /// renumbered), held (the running cell's `idle`), or dropped (only marks).
    fn output(&mut self, frames: Vec<Bytes>) -> Option<Vec<Bytes>> {
        let Some(parts) = Parts::new(frames.clone()) else { return Some(frames) };
        let msg_type = parts.msg_type();
        let mut content = parts.content();
        if msg_type == "execute_input" {
            self.count += 1;
        }
        let count = self.count;
        let Some(running) = self.running_for(&parts) else {
            return match msg_type.as_str() {
                "stream" => strip_marks(parts, &mut content, None),
                _ => Some(frames),
            };
        };
        match msg_type.as_str() {
            "status" if content["execution_state"] == "idle" => {
                running.idle = Some(parts);
                running.settle();
                None
            }
            "execute_input" => {
                running.count = Some(count);
                content["execution_count"] = json!(count);
                Some(parts.with_content(&content))
            }
            "execute_result" => {
                if let Some(n) = running.count {
                    content["execution_count"] = json!(n);
                }
                Some(parts.with_content(&content))
            }
            "stream" => strip_marks(parts, &mut content, Some(running)),
            _ => Some(frames),
        }
    }

    /// When the running cell's reply may go out.
    fn deadline(&self) -> Option<Instant> {
        self.running.as_ref().and_then(|r| r.ready_at)
    }

    /// The running cell's reply, idle and error (and the aborted held
    /// requests after a failure), once its output has settled.
    fn release(&mut self, now: Instant) -> Option<Released> {
        if !self.running.as_ref().and_then(|r| r.ready_at).is_some_and(|t| t <= now) {
            return None;
        }
        let running = self.running.take()?;
        let (reply, idle) = (running.reply?, running.idle?);
        let mut content = reply.content();
        if let Some(n) = running.count {
            content["execution_count"] = json!(n);
        }
        let mut iopub_before = Vec::new();
        if let (Some(kind), Some("ok")) = (&running.failed, content["status"].as_str()) {
            let error = error_content(kind, running.panic.as_ref(), &running.stderr, &running.code);
            let prefix = idle.frames[..idle.delimiter].to_vec();
            iopub_before.push(new_message(prefix, &idle.header(), &idle.parent(), "error", error.clone()));
            for (k, v) in error.as_object().expect("an object") {
                content[k] = v.clone();
            }
            content["status"] = json!("error");
        }
        let failed = content["status"] == "error";
        let reply = reply.with_content(&content);
        let aborted = if failed && running.stop_on_error {
            self.queue
                .drain(..)
                .filter_map(Parts::new)
                .map(|request| abort(&request, &idle))
                .collect()
        } else {
            Vec::new()
        };
        Some(Released {
            iopub_before,
            reply,
            idle: idle.frames,
            aborted,
        })
    }
}

impl Running {
    fn settle(&mut self) {
        if self.reply.is_some() && self.idle.is_some() {
            self.ready_at = Some(Instant::now() + SETTLE);
        }
    }
}

/// A stream message without the notebook process's marks (recorded for the
/// running cell); `None` when nothing else was in it.
fn strip_marks(parts: Parts, content: &mut Value, mut running: Option<&mut Running>) -> Option<Vec<Bytes>> {
    let text = content["text"].as_str().unwrap_or_default().to_string();
    let is_stderr = content["name"] == "stderr";
    let mut kept = String::new();
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches('\n');
        if bare == marks::STARTED {
            continue;
        }
        if let Some(kind) = bare.strip_prefix(marks::FAILURE) {
            if let Some(r) = running.as_deref_mut() {
                r.failed = Some(kind.trim().to_string());
            }
            continue;
        }
        if let Some(report) = PanicReport::parse_line(bare) {
            match running.as_deref_mut() {
                Some(r) => r.panic = Some(report),
                // A panic outside the cell's own thread: show it, it does not end the cell.
                None => kept.push_str(&format!("panicked: {}\n", report.message)),
            }
            continue;
        }
        kept.push_str(line);
    }
    if is_stderr {
        if let Some(r) = running {
            r.stderr.push_str(&kept);
        }
    }
    if kept.is_empty() {
        return None;
    }
    content["text"] = json!(kept);
    Some(parts.with_content(content))
}

/// The `error` content of a failed cell: a panic with its message and the
/// cell's line, or an error returned through `?` with its text.
fn error_content(kind: &str, panic: Option<&PanicReport>, stderr: &str, code: &str) -> Value {
    const RED: &str = "\u{1b}[0;31m";
    const RESET: &str = "\u{1b}[0m";
    match (kind, panic) {
        ("panic", Some(report)) => {
            let mut traceback = vec![format!("{RED}panicked{RESET} {}", report.location(code))];
            traceback.extend(report.message.lines().map(str::to_string));
            json!({"ename": "Panic", "evalue": report.message, "traceback": traceback})
        }
        ("panic", None) => json!({
            "ename": "Panic",
            "evalue": "the cell panicked",
            "traceback": [format!("{RED}panicked{RESET} (its message is above)")],
        }),
        _ => {
            let message = stderr.trim();
            let message = if message.is_empty() { "(no message)" } else { message };
            let mut traceback = vec![format!("{RED}the cell returned an error through `?`{RESET}:")];
            traceback.extend(message.lines().map(str::to_string));
            json!({"ename": "Error", "evalue": message, "traceback": traceback})
        }
    }
}

/// The messages that answer a held request the kernel will never run:
/// `busy`, an `aborted` reply, `idle`.
fn abort(request: &Parts, idle_template: &Parts) -> Aborted {
    let ids = request.frames[..request.delimiter].to_vec();
    let topic = idle_template.frames[..idle_template.delimiter].to_vec();
    let template = idle_template.header();
    let parent = request.header();
    let status = |state: &str| new_message(topic.clone(), &template, &parent, "status", json!({"execution_state": state}));
    Aborted {
        busy: status("busy"),
        // No execution count: JupyterLab then shows the cell as not run.
        reply: new_message(ids, &template, &parent, "execute_reply", json!({"status": "aborted"})),
        idle: status("idle"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(ids: &[&str], msg_type: &str, msg_id: &str, parent: &str, content: Value) -> Vec<Bytes> {
        let mut frames: Vec<Bytes> = ids.iter().map(|i| Bytes::from(i.to_string())).collect();
        frames.push(Bytes::from_static(DELIMITER));
        frames.push(Bytes::new());
        for part in [
            json!({"msg_id": msg_id, "msg_type": msg_type, "session": "s", "username": "u", "version": "5.3"}),
            if parent.is_empty() { json!({}) } else { json!({"msg_id": parent, "msg_type": "execute_request"}) },
            json!({}),
            content,
        ] {
            frames.push(Bytes::from(part.to_string()));
        }
        frames
    }

    fn kind(frames: &[Bytes]) -> (String, Value) {
        let p = Parts::new(frames.to_vec()).unwrap();
        (p.msg_type(), p.content())
    }

    fn execute(id: &str, code: &str) -> Vec<Bytes> {
        msg(&["client"], "execute_request", id, "", json!({"code": code}))
    }

    #[test]
    fn a_panic_becomes_an_error_and_the_held_cells_are_aborted() {
        let mut cells = Cells::default();
        assert_eq!(cells.request(execute("a", "let x = 1;\nassert!(x > 2, \"too small\");")).len(), 1);
        // Run All: the next two wait in the proxy.
        assert!(cells.request(execute("b", "1")).is_empty());
        assert!(cells.request(execute("c", "2")).is_empty());
        let input = cells.output(msg(&["t"], "execute_input", "i", "a", json!({"execution_count": 7}))).unwrap();
        assert_eq!(kind(&input).1["execution_count"], 1, "counts start at 1");
        let report = PanicReport {
            message: "too small".into(),
            file: "src/lib.rs".into(),
            line: 30,
            column: 1,
            source_line: Some("assert!(x > 2, \"too small\");".into()),
        };
        let text = format!("{}\n{} panic\n", report.to_line(), marks::FAILURE);
        assert!(cells.output(msg(&["t"], "stream", "s", "a", json!({"name": "stdout", "text": text}))).is_none(), "marks never reach Jupyter");
        assert!(cells.reply(msg(&["client"], "execute_reply", "r", "a", json!({"status": "ok", "execution_count": 7}))).is_none());
        assert!(cells.output(msg(&["t"], "status", "st", "a", json!({"execution_state": "idle"}))).is_none());
        assert!(cells.release(Instant::now()).is_none(), "held until the output settles");
        let done = cells.release(Instant::now() + SETTLE * 2).unwrap();
        let (t, error) = kind(&done.iopub_before[0]);
        assert_eq!(t, "error");
        assert_eq!(error["ename"], "Panic");
        assert_eq!(error["evalue"], "too small");
        assert!(error["traceback"][0].as_str().unwrap().contains("at line 2 of the cell"), "{error}");
        let (t, reply) = kind(&done.reply);
        assert_eq!((t.as_str(), reply["status"].as_str(), reply["execution_count"].as_i64()), ("execute_reply", Some("error"), Some(1)));
        assert_eq!(kind(&done.idle).1["execution_state"], "idle");
        assert_eq!(done.aborted.len(), 2);
        let (t, aborted) = kind(&done.aborted[0].reply);
        assert_eq!((t.as_str(), aborted["status"].as_str()), ("execute_reply", Some("aborted")));
        assert_eq!(&done.aborted[0].reply[0][..], b"client", "addressed to the client that asked");
        assert!(cells.start_next().is_none(), "nothing left to run");
    }

    #[test]
    fn a_cell_that_passes_starts_the_next_and_output_passes_through() {
        let mut cells = Cells::default();
        cells.request(execute("a", "println!(\"hi\");"));
        assert!(cells.request(execute("b", "2")).is_empty());
        let out = cells.output(msg(&["t"], "stream", "s", "a", json!({"name": "stdout", "text": "hi\n"}))).unwrap();
        assert_eq!(kind(&out).1["text"], "hi\n");
        let err = cells.output(msg(&["t"], "stream", "e", "a", json!({"name": "stderr", "text": format!("{}\n", marks::STARTED)})));
        assert!(err.is_none(), "the start mark is the grader's, not the student's");
        cells.reply(msg(&["client"], "execute_reply", "r", "a", json!({"status": "ok"})));
        cells.output(msg(&["t"], "status", "st", "a", json!({"execution_state": "idle"})));
        let done = cells.release(Instant::now() + SETTLE * 2).unwrap();
        assert!(done.iopub_before.is_empty() && done.aborted.is_empty());
        assert_eq!(kind(&done.reply).1["status"], "ok");
        let next = cells.start_next().unwrap();
        assert_eq!(Parts::new(next).unwrap().header()["msg_id"], "b");
    }

    #[test]
    fn an_error_through_question_mark_keeps_its_message() {
        let mut cells = Cells::default();
        cells.request(execute("a", "let n: i32 = \"x\".parse()?;"));
        cells.output(msg(&["t"], "stream", "e", "a", json!({"name": "stderr", "text": "invalid digit found in string\n"})));
        cells.output(msg(&["t"], "stream", "s", "a", json!({"name": "stdout", "text": format!("{} error\n", marks::FAILURE)})));
        cells.reply(msg(&["client"], "execute_reply", "r", "a", json!({"status": "ok"})));
        cells.output(msg(&["t"], "status", "st", "a", json!({"execution_state": "idle"})));
        let done = cells.release(Instant::now() + SETTLE * 2).unwrap();
        let (_, error) = kind(&done.iopub_before[0]);
        assert_eq!(error["ename"], "Error");
        assert_eq!(error["evalue"], "invalid digit found in string");
    }
}
