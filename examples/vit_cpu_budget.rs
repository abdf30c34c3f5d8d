//! The ViT assignment's CPU budget outside the notebook: alignment from
//! scratch, SimCLR pre-training, alignment from the pre-trained ViT; prints
//! Recall@1/3/5 both ways and zero-shot accuracy per N for both, as markdown.
//!
//! `cargo run --release --example vit_cpu_budget` (`make vit-cpu-budget`).
//! With Flickr8k in data/Flickr8k it runs on Flickr8k, else on captioned shapes.
use replearn::assignments::vit::{self, AlignModel, SimclrHead};
use replearn::eval::recall_both_ways;
use replearn::losses::{nt_xent, scaled_symmetric_info_nce};
use replearn::models::scaled_dot_product_attention as attention;
use replearn::train::Budget;
use tch::nn::VarStore;

fn main() -> replearn::Result<()> {
    let setup = vit::setup(Budget::Original)?;
    let config = &setup.config;
    let device = setup.device;
    let started = std::time::Instant::now();
    let dir = std::env::temp_dir().join("replearn-vit-cpu-budget");
    let ckpt = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let align = |vit_vs: &VarStore, rest_vs: &VarStore, model: &AlignModel, name: &str| {
        let mut run = config.align.clone();
        run.run.device = device;
        vit::train_alignment(model, vit_vs, rest_vs, &setup.train, &run, attention, scaled_symmetric_info_nce, &ckpt(name))
    };
    // From scratch.
    tch::manual_seed(1);
    let (vit_vs, rest_vs) = (VarStore::new(device), VarStore::new(device));
    let scratch = AlignModel::new(&vit_vs, &rest_vs, config);
    let scratch_history = align(&vit_vs, &rest_vs, &scratch, "scratch")?;
    // SimCLR, then alignment from it.
    tch::manual_seed(1);
    let (pre_vs, pre_rest, head_vs) = (VarStore::new(device), VarStore::new(device), VarStore::new(device));
    let pre = AlignModel::new(&pre_vs, &pre_rest, config);
    let head = SimclrHead::new(&head_vs.root(), config.vit.encoder.width);
    let mut simclr = config.simclr.clone();
    simclr.run.device = device;
    let simclr_history = vit::pretrain_simclr(&pre.vit, &head, &pre_vs, &head_vs, &setup.train.images, &simclr, attention, nt_xent, &ckpt("simclr"))?;
    tch::manual_seed(1);
    let (vit2_vs, rest2_vs) = (VarStore::new(device), VarStore::new(device));
    let pretrained = AlignModel::new(&vit2_vs, &rest2_vs, config);
    let mut copy_into = vit2_vs;
    copy_into.copy(&pre_vs)?;
    let pretrained_history = align(&copy_into, &rest2_vs, &pretrained, "pretrained")?;
    println!(
        "data: {}; {} training and {} validation pairs; {:.0} min in all",
        if setup.source.stand_in { "captioned shapes" } else { "Flickr8k" },
        setup.train.len(),
        setup.test.len(),
        started.elapsed().as_secs_f64() / 60.0
    );
    println!(
        "final epoch losses: scratch {:.3}, SimCLR {:.3}, aligned after SimCLR {:.3}\n",
        scratch_history.epoch_means().last().unwrap_or(&f64::NAN),
        simclr_history.epoch_means().last().unwrap_or(&f64::NAN),
        pretrained_history.epoch_means().last().unwrap_or(&f64::NAN)
    );
    println!("| ViT | R@1 i->t | R@3 i->t | R@5 i->t | R@1 t->i | R@3 t->i | R@5 t->i | zero-shot N=3 | N=5 | N=10 | N=20 | N=25 |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, model) in [("from scratch", &scratch), ("SimCLR, then aligned", &pretrained)] {
        let (image, text) = vit::embed_pairs(model, &setup.test, attention, device)?;
        let similarity = image.matmul(&text.tr());
        let recalls: Vec<(f64, f64)> = [1, 3, 5].iter().map(|&k| recall_both_ways(&similarity, k)).collect();
        let zero_shot = vit::zero_shot_curve(&image, &text, &[3, 5, 10, 20, 25], 0)?;
        let percent = |v: f64| format!("{:.1}%", 100.0 * v);
        let cells: Vec<String> = recalls.iter().map(|r| percent(r.0)).chain(recalls.iter().map(|r| percent(r.1))).chain(zero_shot.iter().map(|z| percent(z.1))).collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
    let n = setup.test.len() as f64;
    println!("| chance | {:.1}% | {:.1}% | {:.1}% | {:.1}% | {:.1}% | {:.1}% | 33.3% | 20.0% | 10.0% | 5.0% | 4.0% |", 100.0 / n, 300.0 / n, 500.0 / n, 100.0 / n, 300.0 / n, 500.0 / n);
    Ok(())
}
