//! The dry-part notebook's ten experiments at the full budget, outside the
//! notebook, with the reference answers to its FIXMEs; prints what each
//! measured. `cargo run --release --example dry_part_budget` (`make dry-part-budget`).
//! MNIST when `data/mnist` holds it, else the 8x8 digits.
use replearn::assignments::dry_part::{self, AlignmentTask, Averaging, ClassifierKind, DiffusionElbo, ToyDiffusion, Valley};
use replearn::train::Budget;
use std::time::Instant;

fn main() -> replearn::Result<()> {
    let setup = dry_part::setup(Budget::Original)?;
    let (config, dev, digits) = (&setup.config, setup.device, &setup.digits);
    let clock = Instant::now();
    let lap = |what: &str| println!("[{what}: {:.0} s so far]\n", clock.elapsed().as_secs_f64());

    println!("## 1. Latent size\n");
    let sweep = dry_part::latent_size_sweep(digits, &config.latent_sizes, &config.latent_seeds, config.autoencoder_epochs, dev)?;
    println!("{sweep}");
    lap("latent size");

    println!("## 2. Width against depth\n");
    let (parameters, error) = dry_part::sawtooth_by_hand(5)?;
    println!("hand-built 5 x 2: {parameters} parameters, MSE {error:.1e}");
    println!("{}", dry_part::width_depth_sweep(&config.parameter_budgets, &config.depths, 3, config.fit_steps, dev)?);
    lap("width and depth");

    println!("## 3 and 6. MLP against CNN\n");
    let duel = dry_part::compare_mlp_cnn(digits, config.few_images, config.classifier_epochs, &[0, 1, 2, 3], dev)?;
    println!("{duel}");
    let (mlp, cnn) = dry_part::compare_on_position_task(digits, 2, config.classifier_epochs, dev)?;
    println!("which way was the digit moved? MLP {:.1}%, CNN {:.1}%", 100.0 * mlp, 100.0 * cnn);
    println!("CNN ahead with {} digits (unshifted): {}", config.few_images, duel.accuracies(ClassifierKind::Cnn, config.few_images).map(|a| a[0]) > duel.accuracies(ClassifierKind::Mlp, config.few_images).map(|a| a[0]));
    lap("MLP and CNN");

    println!("## 4. EMA against plain averages\n");
    let valley = Valley::default();
    for (name, first, second) in [
        ("EMA / EMA (Adam)", Averaging::Ema { beta: 0.9 }, Averaging::Ema { beta: 0.999 }),
        ("plain / plain", Averaging::Plain, Averaging::Plain),
        ("plain / EMA", Averaging::Plain, Averaging::Ema { beta: 0.999 }),
    ] {
        println!("{}", dry_part::run_optimiser(name, &valley, dry_part::average, first, second, 0.02, config.optimiser_steps)?);
    }
    lap("averaging");

    println!("\n## 7. Attention cost\n");
    println!("{}", dry_part::time_attention(&config.sequence_lengths, config.attention_width, dry_part::reordered_attention, 5, dev));
    println!("relative difference of the outputs: {:.3}", dry_part::attention_outputs_differ(dry_part::reordered_attention, 16, 8, 0));
    lap("attention cost");

    println!("## 8. Attention map\n");
    let run = dry_part::train_alignment_task(AlignmentTask::ReverseThenPairSums, 8, 8, config.attention_steps, 0, dev)?;
    println!("accuracy by position {:?}", run.accuracy_by_position.iter().map(|a| format!("{:.3}", a)).collect::<Vec<_>>());
    println!("largest weight per row {:?}", run.row_maxima.iter().map(|a| format!("{a:.2}")).collect::<Vec<_>>());
    lap("attention map");

    println!("## 9. Diffusion ELBO\n");
    replearn::seed(5);
    let mut diffusion = DiffusionElbo::new(ToyDiffusion::linear(config.diffusion_steps, 1e-3, 0.2));
    let before = diffusion.terms(config.diffusion_samples);
    diffusion.train(config.diffusion_training, 256)?;
    println!("before:\n{before}\nafter:\n{}", diffusion.terms(config.diffusion_samples));
    lap("diffusion");

    println!("## 10. Autoencoder against VAE\n");
    println!("{}", dry_part::compare_generators(digits, 8, config.generator_epochs, 256, dev)?);
    lap("generators");
    Ok(())
}
