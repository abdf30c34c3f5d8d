//! Jupyter's wire protocol, as far as the kernel pool needs it: connection
//! files, message signatures and re-signing (the proxy, [`super::proxy`],
//! joins Jupyter's sockets to a kernel started with other ports and key).
//!
//! A message is `[routing ids.., "<IDS|MSG>", hmac, header, parent_header,
//! metadata, content, buffers..]`; the hmac is HMAC-SHA256 of header, parent
//! header, metadata and content under the connection's key (no signature
//! when the key is empty).
use anyhow::{Context, Result};
use bytes::Bytes;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::path::Path;
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

/// The frame between a message's routing ids and its signature.
pub const DELIMITER: &[u8] = b"<IDS|MSG>";

/// A kernel's connection file (the fields Jupyter and evcxr read).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConnectionInfo {
    pub transport: String,
    pub ip: String,
    pub key: String,
    #[serde(default = "hmac_sha256")]
    pub signature_scheme: String,
    pub shell_port: u16,
    pub control_port: u16,
    pub stdin_port: u16,
    pub iopub_port: u16,
    pub hb_port: u16,
}

fn hmac_sha256() -> String {
    "hmac-sha256".into()
}

impl ConnectionInfo {
    pub fn read(path: &Path) -> Result<ConnectionInfo> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the connection file {}", path.display()))?;
        let info: ConnectionInfo = serde_json::from_str(&text)
            .with_context(|| format!("parsing the connection file {}", path.display()))?;
        anyhow::ensure!(
            info.key.is_empty() || info.signature_scheme == "hmac-sha256",
            "{}: signature scheme {:?} is not supported (only hmac-sha256)",
            path.display(),
            info.signature_scheme
        );
        Ok(info)
    }

    /// Free local ports and a fresh random key, for a kernel only we talk to.
    pub fn fresh_local() -> Result<ConnectionInfo> {
        let listeners = (0..5)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
            .collect::<std::io::Result<Vec<_>>>()
            .context("finding free local ports")?;
        let port = |i: usize| listeners[i].local_addr().map(|a| a.port());
        let mut key = [0u8; 32];
        getrandom(&mut key)?;
        Ok(ConnectionInfo {
            transport: "tcp".into(),
            ip: "127.0.0.1".into(),
            key: hex::encode(key),
            signature_scheme: "hmac-sha256".into(),
            shell_port: port(0)?,
            control_port: port(1)?,
            stdin_port: port(2)?,
            iopub_port: port(3)?,
            hb_port: port(4)?,
        })
    }

    pub fn endpoint(&self, port: u16) -> String {
        format!("{}://{}:{}", self.transport, self.ip, port)
    }
}

fn getrandom(buf: &mut [u8]) -> Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .context("reading /dev/urandom")
}

/// Signs and checks messages under one connection's key.
#[derive(Clone)]
pub struct Signer {
    mac: Option<Hmac<Sha256>>,
}

impl Signer {
    pub fn new(key: &str) -> Signer {
        let mac = (!key.is_empty())
            .then(|| Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key"));
        Signer { mac }
    }

    /// The MAC of `parts` (`None` when the key is empty).
    fn mac_over(&self, parts: &[Bytes]) -> Option<Hmac<Sha256>> {
        let mut mac = self.mac.clone()?;
        for part in parts {
            mac.update(part);
        }
        Some(mac)
    }

    /// The hex signature of `parts` (empty when the key is empty).
    pub fn sign(&self, parts: &[Bytes]) -> String {
        self.mac_over(parts)
            .map_or_else(String::new, |mac| hex::encode(mac.finalize().into_bytes()))
    }

    /// Whether `signature` is right for `parts`.
    pub fn verify(&self, parts: &[Bytes], signature: &[u8]) -> bool {
        match self.mac_over(parts) {
            None => true,
            Some(mac) => hex::decode(signature).is_ok_and(|s| mac.verify_slice(&s).is_ok()),
        }
    }
}

/// Which parts a signature covers.
#[derive(Clone, Copy)]
pub enum Covers {
    /// Header, parent header, metadata, content: the protocol's rule.
    FourParts,
    /// Every part after the signature, buffers too: what evcxr checks.
    AllParts,
}

/// Checks a message's signature under `from` (when given) and signs it again
/// under `to`. `None` for a message with no delimiter or a wrong signature.
pub fn resign(
    frames: Vec<Bytes>,
    from: Option<&Signer>,
    to: &Signer,
    covers: Covers,
) -> Option<Vec<Bytes>> {
    let d = frames.iter().position(|f| &f[..] == DELIMITER)?;
    if frames.len() < d + 6 {
        return None;
    }
    if let Some(from) = from {
        if !from.verify(&frames[d + 2..d + 6], &frames[d + 1]) {
            return None;
        }
    }
    let signed = match covers {
        Covers::FourParts => &frames[d + 2..d + 6],
        Covers::AllParts => &frames[d + 2..],
    };
    let signature = Bytes::from(to.sign(signed));
    let mut frames = frames;
    frames[d + 1] = signature;
    Some(frames)
}

/// A single-threaded runtime for the pool's and the proxy's sockets.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// A signed message with the given type and content, as a client sends it.
pub fn request(signer: &Signer, msg_type: &str, content: serde_json::Value) -> ZmqMessage {
    let mut id = [0u8; 16];
    let _ = getrandom(&mut id);
    let header = serde_json::json!({
        "msg_id": hex::encode(id),
        "session": "replearn-pool",
        "username": "replearn",
        "date": "1970-01-01T00:00:00Z",
        "msg_type": msg_type,
        "version": "5.3",
    });
    let parts: Vec<Bytes> = [
        header,
        serde_json::json!({}),
        serde_json::json!({}),
        content,
    ]
    .iter()
    .map(|v| Bytes::from(v.to_string()))
    .collect();
    let mut frames = vec![
        Bytes::from_static(DELIMITER),
        Bytes::from(signer.sign(&parts)),
    ];
    frames.extend(parts);
    ZmqMessage::try_from(frames).expect("frames are not empty")
}

/// Asks the kernel at `info` for its kernel info and waits for the reply,
/// which evcxr sends only once its start-up script has run.
pub async fn wait_until_answering(info: &ConnectionInfo, limit: std::time::Duration) -> Result<()> {
    let signer = Signer::new(&info.key);
    let deadline = tokio::time::Instant::now() + limit;
    let mut shell = zeromq::DealerSocket::new();
    loop {
        match shell.connect(&info.endpoint(info.shell_port)).await {
            Ok(()) => break,
            Err(e) if tokio::time::Instant::now() > deadline => {
                anyhow::bail!("the kernel's shell socket did not open: {e}")
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    }
    shell
        .send(request(
            &signer,
            "kernel_info_request",
            serde_json::json!({}),
        ))
        .await?;
    tokio::time::timeout_at(deadline, shell.recv())
        .await
        .context("the kernel did not answer in time")??;
    Ok(())
}

/// Asks the kernel at `info` to shut down (it ends its process).
pub async fn request_shutdown(info: &ConnectionInfo) -> Result<()> {
    let signer = Signer::new(&info.key);
    let mut control = zeromq::DealerSocket::new();
    control.connect(&info.endpoint(info.control_port)).await?;
    control
        .send(request(
            &signer,
            "shutdown_request",
            serde_json::json!({"restart": false}),
        ))
        .await?;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), control.recv()).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(key: &Signer) -> Vec<Bytes> {
        let parts: Vec<Bytes> = ["{\"msg_type\":\"x\"}", "{}", "{}", "{\"code\":\"1\"}"]
            .iter()
            .map(|s| Bytes::from(*s))
            .collect();
        let mut frames = vec![
            Bytes::from_static(b"client"),
            Bytes::from_static(DELIMITER),
            Bytes::from(key.sign(&parts)),
        ];
        frames.extend(parts);
        frames
    }

    #[test]
    fn signature_matches_rfc4231_test_case_2() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        let signer = Signer::new("Jefe");
        let sig = signer.sign(&[Bytes::from("what do ya want "), Bytes::from("for nothing?")]);
        assert_eq!(
            sig,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(Signer::new("").sign(&[Bytes::from("x")]), "");
    }

    #[test]
    fn resign_checks_the_old_key_and_signs_with_the_new() {
        let (a, b) = (Signer::new("front-key"), Signer::new("back-key"));
        let frames = message(&a);
        let out = resign(frames.clone(), Some(&a), &b, Covers::FourParts).expect("valid");
        assert_eq!(out[0], frames[0], "routing ids pass unchanged");
        assert!(b.verify(&out[3..7], &out[2]));
        assert!(!a.verify(&out[3..7], &out[2]));
        assert!(
            resign(frames, Some(&b), &a, Covers::FourParts).is_none(),
            "wrong key is dropped"
        );
        assert!(resign(
            vec![Bytes::from("no delimiter")],
            None,
            &a,
            Covers::FourParts
        )
        .is_none());
    }

    #[test]
    fn all_parts_covers_buffers_too() {
        let a = Signer::new("k");
        let mut frames = message(&a);
        frames.push(Bytes::from("buffer"));
        let four = resign(frames.clone(), None, &a, Covers::FourParts).unwrap();
        let all = resign(frames, None, &a, Covers::AllParts).unwrap();
        assert_ne!(four[2], all[2]);
        assert!(a.verify(&all[3..], &all[2]));
    }

    #[test]
    fn connection_file_round_trips_and_names_a_bad_file() {
        let dir = tempfile::tempdir().unwrap();
        let info = ConnectionInfo::fresh_local().unwrap();
        assert_eq!(info.key.len(), 64);
        let path = dir.path().join("kernel.json");
        std::fs::write(&path, serde_json::to_string(&info).unwrap()).unwrap();
        assert_eq!(ConnectionInfo::read(&path).unwrap(), info);
        std::fs::write(&path, "{}").unwrap();
        let err = format!("{:#}", ConnectionInfo::read(&path).unwrap_err());
        assert!(err.contains("kernel.json"), "{err}");
    }
}
