//! Captioned shapes: the offline stand-in for Flickr8k, written in Flickr8k's
//! layout. Each image shows one to three shapes on black, each in its own
//! cell of a 3x3 board; each image has five captions, as Flickr8k does, that
//! name colours, shapes, sizes, places and how the shapes lie to each other, in
//! varied words and word order ("a red triangle in the upper left", "a blue
//! disc above a little yellow box"), so two images rarely share a caption.
use super::shapes::draw;
use super::source::write_stand_in_once;
use super::{CaptionedImage, DataChoice, Flickr8k, ShapeFactors, ShapeKind};
use crate::{Error, Result};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// What [`write_captioned_shapes`] writes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaptionedShapesConfig {
    /// Number of images.
    pub len: usize,
    /// Side of the images in pixels.
    pub image_size: usize,
    /// Most shapes in one image (1 to 3).
    pub max_shapes: usize,
    /// Captions per image (1 to 6; Flickr8k has 5).
    pub captions_per_image: usize,
    pub seed: u64,
}

impl Default for CaptionedShapesConfig {
    fn default() -> Self {
        CaptionedShapesConfig {
            len: 2_000,
            image_size: 64,
            max_shapes: 3,
            captions_per_image: 5,
            seed: 8,
        }
    }
}

impl CaptionedShapesConfig {
    fn check(&self) -> Result<()> {
        if self.image_size < 16 {
            return Err(Error::invalid("CaptionedShapesConfig::image_size", self.image_size, "must be at least 16"));
        }
        if !(1..=3).contains(&self.max_shapes) {
            return Err(Error::invalid("CaptionedShapesConfig::max_shapes", self.max_shapes, "must be 1, 2 or 3"));
        }
        if !(1..=TEMPLATES).contains(&self.captions_per_image) {
            return Err(Error::invalid("CaptionedShapesConfig::captions_per_image", self.captions_per_image, format!("must be 1 to {TEMPLATES}")));
        }
        Ok(())
    }
}

/// Six colour names around the hue circle, each covering 60 degrees.
pub fn colour_name(hue: f32) -> &'static str {
    COLOURS[colour_index(hue)]
}

const COLOURS: [&str; 6] = ["red", "yellow", "green", "cyan", "blue", "magenta"];

fn colour_index(hue: f32) -> usize {
    ((hue.rem_euclid(1.0) * 6.0 + 0.5) as usize) % 6
}

/// Three ways to say each cell of the 3x3 board, row by row.
const PLACES: [[&str; 3]; 9] = [
    ["in the upper left", "in the top left corner", "near the top left"],
    ["at the top", "near the top edge", "at the top in the middle"],
    ["in the upper right", "in the top right corner", "near the top right"],
    ["on the left", "at the left edge", "on the left side"],
    ["in the centre", "in the middle", "at the centre"],
    ["on the right", "at the right edge", "on the right side"],
    ["in the lower left", "in the bottom left corner", "near the bottom left"],
    ["at the bottom", "near the bottom edge", "at the bottom in the middle"],
    ["in the lower right", "in the bottom right corner", "near the bottom right"],
];

/// The cell (0..9, row by row) of the 3x3 board that holds (x, y); points outside are clamped in.
fn cell_of(x: f32, y: f32, image_size: f32) -> usize {
    let cell = |v: f32| ((v / image_size * 3.0).floor() as i64).clamp(0, 2) as usize;
    cell(y) * 3 + cell(x)
}

/// Where in a 3x3 board the centre lies, as a phrase ("in the upper left", "at the top", ...).
pub fn location_phrase(x: f32, y: f32, image_size: f32) -> &'static str {
    PLACES[cell_of(x, y, image_size)][0]
}

/// "small", "medium-sized" or "large": the shape's extent against the image's side.
pub fn size_word(size: f32, image_size: f32) -> &'static str {
    match size / image_size {
        s if s < 0.19 => "small",
        s if s >= 0.28 => "large",
        _ => "medium-sized",
    }
}

/// A word for the shape: the plain name most often, a synonym otherwise.
fn kind_word(kind: ShapeKind, rng: &mut ChaCha8Rng) -> &'static str {
    let words: &[&str] = match kind {
        ShapeKind::Circle => &["circle", "circle", "disc", "round shape"],
        ShapeKind::Square => &["square", "square", "box", "block"],
        ShapeKind::Triangle => &["triangle", "triangle", "three-cornered shape"],
    };
    words.choose(rng).copied().unwrap_or(kind.name())
}

fn size_synonym(word: &'static str, rng: &mut ChaCha8Rng) -> &'static str {
    let words: &[&str] = match word {
        "small" => &["small", "little"],
        "large" => &["large", "big"],
        _ => &["medium-sized", "mid-sized"],
    };
    words.choose(rng).copied().unwrap_or(word)
}

/// One shape as the captions see it.
struct Said {
    colour: &'static str,
    cell: usize,
    size: &'static str,
    kind: ShapeKind,
}

impl Said {
    fn noun(&self, rng: &mut ChaCha8Rng) -> String {
        format!("{} {}", self.colour, kind_word(self.kind, rng))
    }
    fn sized_noun(&self, rng: &mut ChaCha8Rng) -> String {
        format!("{} {}", size_synonym(self.size, rng), self.noun(rng))
    }
    fn place(&self, rng: &mut ChaCha8Rng) -> &'static str {
        PLACES[self.cell].choose(rng).copied().unwrap_or(PLACES[self.cell][0])
    }
}

/// A true relation of `a` to `b` ("to the left of", "above", ...), for shapes in different cells.
fn relation(a: &Said, b: &Said, rng: &mut ChaCha8Rng) -> &'static str {
    let (ra, ca, rb, cb) = (a.cell / 3, a.cell % 3, b.cell / 3, b.cell % 3);
    let mut true_ones: Vec<&[&str]> = Vec::new();
    if ca < cb {
        true_ones.push(&["to the left of", "left of"]);
    }
    if ca > cb {
        true_ones.push(&["to the right of", "right of"]);
    }
    if ra < rb {
        true_ones.push(&["above", "higher up than"]);
    }
    if ra > rb {
        true_ones.push(&["below", "beneath", "lower down than"]);
    }
    true_ones
        .choose(rng)
        .and_then(|words| words.choose(rng))
        .copied()
        .unwrap_or("next to")
}

/// "a X", "a X and a Y", "a X, a Y and a Z".
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// How many caption templates there are; an image gets that many distinct captions at most.
const TEMPLATES: usize = 6;

/// `count` distinct captions of an image showing `shapes`, worded at random
/// from `seed`: six templates, synonyms for shapes, sizes and places, and a
/// random order of the shapes. Every caption is true of the image.
pub fn captions_of(shapes: &[ShapeFactors], image_size: f32, count: usize, seed: u64) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut said: Vec<Said> = shapes
        .iter()
        .map(|f| Said {
            colour: colour_name(f.hue),
            cell: cell_of(f.x, f.y, image_size),
            size: size_word(f.size, image_size),
            kind: f.kind,
        })
        .collect();
    said.shuffle(&mut rng);
    let mut order: Vec<usize> = (0..TEMPLATES).collect();
    order.shuffle(&mut rng);
    let rng = &mut rng;
    let mut captions: Vec<String> = Vec::new();
    let a = match said.first() {
        Some(a) => a,
        None => return vec!["an empty black picture".to_string(); count.min(1)],
    };
    for template in order {
        let caption = if said.len() == 1 {
            match template {
                0 => format!("a {} {}", a.noun(rng), a.place(rng)),
                1 => format!("a {}", a.sized_noun(rng)),
                2 => format!("{} there is a {}", a.place(rng), a.sized_noun(rng)),
                3 => format!("one {} coloured {}, {}", kind_word(a.kind, rng), a.colour, a.place(rng)),
                4 => format!("a {} on a black background", a.sized_noun(rng)),
                _ => format!("a black picture with a single {} {}", a.noun(rng), a.place(rng)),
            }
        } else {
            let b = &said[1];
            let how_many = if said.len() == 2 { "two" } else { "three" };
            match template {
                0 => list(&said.iter().map(|s| format!("a {}", s.noun(rng))).collect::<Vec<_>>()),
                1 => format!("a {} {} a {}", a.noun(rng), relation(a, b, rng), b.noun(rng)),
                2 => format!(
                    "{how_many} shapes: {}",
                    list(&said.iter().map(|s| format!("a {} {}", s.noun(rng), s.place(rng))).collect::<Vec<_>>())
                ),
                3 => {
                    let others = if said.len() == 2 { "another shape" } else { "two other shapes" };
                    format!("a {} {} and {others}", a.sized_noun(rng), a.place(rng))
                }
                4 => list(&said.iter().map(|s| format!("{} a {}", s.place(rng), s.noun(rng))).collect::<Vec<_>>()),
                _ => format!("{how_many} coloured shapes on black, among them a {}", b.sized_noun(rng)),
            }
        };
        if !captions.contains(&caption) {
            captions.push(caption);
        }
        if captions.len() == count {
            break;
        }
    }
    captions
}

/// The shapes of one image: 1 to `max_shapes`, in cells of the 3x3 board that
/// share no edge (so they do not overlap), with distinct colour names.
fn scene(rng: &mut ChaCha8Rng, image_size: f32, max_shapes: usize) -> Vec<ShapeFactors> {
    let count = rng.random_range(1..=max_shapes);
    let cells: Vec<usize> = loop {
        let mut all: Vec<usize> = (0..9).collect();
        all.shuffle(rng);
        let pick = &all[..count];
        let touching = |a: usize, b: usize| (a / 3 == b / 3 && a.abs_diff(b) == 1) || (a % 3 == b % 3 && (a / 3).abs_diff(b / 3) == 1);
        if pick.iter().all(|&a| pick.iter().all(|&b| a == b || !touching(a, b))) {
            break pick.to_vec();
        }
    };
    let mut colours: Vec<usize> = (0..6).collect();
    colours.shuffle(rng);
    let third = image_size / 3.0;
    cells
        .iter()
        .zip(colours)
        .map(|(&cell, colour)| {
            let kind = ShapeKind::ALL[rng.random_range(0..3)];
            let jitter = |rng: &mut ChaCha8Rng| rng.random_range(-0.06..=0.06) * image_size;
            ShapeFactors {
                kind,
                hue: (colour as f32 + rng.random_range(-0.4..0.4)).rem_euclid(6.0) / 6.0,
                x: (cell % 3) as f32 * third + third / 2.0 + jitter(rng),
                y: (cell / 3) as f32 * third + third / 2.0 + jitter(rng),
                size: rng.random_range(0.125..=0.33) * image_size,
                rotation: match kind {
                    ShapeKind::Circle => 0.0,
                    _ => rng.random::<f32>() * std::f32::consts::TAU,
                },
            }
        })
        .collect()
}

/// The shapes and captions of every image `config` describes (what
/// [`write_captioned_shapes`] writes, without the pixels).
pub fn captioned_scenes(config: &CaptionedShapesConfig) -> Result<Vec<(Vec<ShapeFactors>, Vec<String>)>> {
    config.check()?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let s = config.image_size as f32;
    Ok((0..config.len)
        .map(|_| {
            let shapes = scene(&mut rng, s, config.max_shapes);
            let captions = captions_of(&shapes, s, config.captions_per_image, rng.random());
            (shapes, captions)
        })
        .collect())
}

/// Writes `config.len` captioned images into `dir` in Flickr8k's layout.
pub fn write_captioned_shapes(dir: impl AsRef<Path>, config: &CaptionedShapesConfig) -> Result<()> {
    let s = config.image_size;
    let items: Vec<(CaptionedImage, image::RgbImage)> = captioned_scenes(config)?
        .into_iter()
        .enumerate()
        .map(|(i, (shapes, captions))| {
            let mut chw = vec![0u8; 3 * s * s];
            for f in &shapes {
                draw(f, s, &mut chw);
            }
            let plane = s * s;
            let img = image::RgbImage::from_fn(s as u32, s as u32, |x, y| {
                let at = y as usize * s + x as usize;
                image::Rgb([chw[at], chw[plane + at], chw[2 * plane + at]])
            });
            (CaptionedImage { image: format!("shape_{i:05}.jpg"), captions }, img)
        })
        .collect();
    Flickr8k::write(dir, &items)
}

/// Flickr8k from `real` when its `captions.txt` is there; otherwise the
/// captioned shapes in `stand_in`, written with `config` unless already there.
/// Load the chosen folder with [`Flickr8k::load`].
pub fn flickr8k_or_captioned_shapes(
    real: impl AsRef<Path>,
    stand_in: impl AsRef<Path>,
    config: &CaptionedShapesConfig,
) -> Result<DataChoice> {
    let real = real.as_ref();
    let choice = |dir: &Path, stand_in| DataChoice {
        dir: dir.to_path_buf(),
        stand_in,
        name: "Flickr8k",
        stand_in_name: "captioned shapes in Flickr8k's layout",
    };
    if real.join("captions.txt").is_file() {
        return Ok(choice(real, false));
    }
    let dir = stand_in.as_ref();
    write_stand_in_once(dir, config, |d, c| write_captioned_shapes(d, c))?;
    Ok(choice(dir, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ImageSet, ShapeKind};

    fn shape(kind: ShapeKind, hue: f32, x: f32, y: f32, size: f32) -> ShapeFactors {
        ShapeFactors { kind, hue, x, y, size, rotation: 0.0 }
    }

    #[test]
    fn words_for_colour_place_and_size() {
        assert_eq!(colour_name(0.98), "red");
        assert_eq!(colour_name(0.66), "blue");
        assert_eq!(colour_name(0.17), "yellow");
        assert_eq!(location_phrase(5.0, 10.0, 64.0), "in the upper left");
        assert_eq!(location_phrase(32.0, 60.0, 64.0), "at the bottom");
        assert_eq!(location_phrase(70.0, 32.0, 64.0), "on the right");
        assert_eq!((size_word(10.0, 64.0), size_word(15.0, 64.0), size_word(20.0, 64.0)), ("small", "medium-sized", "large"));
    }

    #[test]
    fn one_shape_gets_distinct_true_captions() {
        let f = shape(ShapeKind::Triangle, 0.98, 5.0, 10.0, 10.0);
        for seed in 0..50 {
            let captions = captions_of(&[f], 64.0, 5, seed);
            assert_eq!(captions.len(), 5);
            for (i, c) in captions.iter().enumerate() {
                assert!(!captions[..i].contains(c), "{captions:?}");
                assert!(c.contains("red") && (c.contains("triangle") || c.contains("three-cornered")), "{c}");
                for wrong in ["large", "big", "medium", "right", "bottom", "centre", "blue", "circle", "square"] {
                    assert!(!c.contains(wrong), "{c} says {wrong}");
                }
            }
        }
        assert!((0..20).any(|seed| captions_of(&[f], 64.0, 6, seed).contains(&"a red triangle in the upper left".to_string())));
    }

    #[test]
    fn relations_between_two_shapes_are_true() {
        // A red circle in the upper left, a blue square in the lower right.
        let shapes = [shape(ShapeKind::Circle, 0.0, 10.0, 10.0, 12.0), shape(ShapeKind::Square, 0.66, 54.0, 54.0, 12.0)];
        let red_first = ["to the left of", "left of", "above", "higher up than"];
        let blue_first = ["to the right of", "right of", "below", "beneath", "lower down than"];
        let mut seen = 0;
        for seed in 0..200 {
            for c in captions_of(&shapes, 64.0, 6, seed) {
                let Some(rel) = red_first.iter().chain(&blue_first).find(|r| c.contains(&format!(" {r} a "))) else { continue };
                seen += 1;
                let red_named_first = c.find("red") < c.find("blue");
                let allowed = if red_named_first { &red_first[..] } else { &blue_first[..] };
                assert!(allowed.contains(rel), "{c}: the red circle is up and left of the blue square");
            }
        }
        assert!(seen > 100, "only {seen} captions with a relation");
    }

    #[test]
    fn shapes_in_one_image_do_not_overlap_and_differ_in_colour() {
        let scenes = captioned_scenes(&CaptionedShapesConfig { len: 300, ..Default::default() }).unwrap();
        let counts = [1, 2, 3].map(|n| scenes.iter().filter(|(s, _)| s.len() == n).count());
        assert!(counts.iter().all(|&c| c > 60), "{counts:?}");
        for (shapes, captions) in &scenes {
            assert_eq!(captions.len(), 5);
            let mut painted = vec![0u8; 64 * 64];
            for f in shapes {
                let mut one = vec![0u8; 3 * 64 * 64];
                draw(f, 64, &mut one);
                for (at, covered) in painted.iter_mut().enumerate() {
                    if one[at] > 0 || one[4096 + at] > 0 || one[8192 + at] > 0 {
                        *covered += 1;
                    }
                }
            }
            assert!(painted.iter().all(|&c| c <= 1), "{shapes:?} overlap");
            let names: std::collections::HashSet<_> = shapes.iter().map(|f| colour_name(f.hue)).collect();
            assert_eq!(names.len(), shapes.len(), "{shapes:?}");
        }
    }

    #[test]
    fn a_batch_of_32_rarely_holds_the_same_caption_twice() {
        let scenes = captioned_scenes(&CaptionedShapesConfig::default()).unwrap();
        let first: Vec<&String> = scenes.iter().map(|(_, c)| &c[0]).collect();
        let all: std::collections::HashSet<&String> = scenes.iter().flat_map(|(_, c)| c).collect();
        assert!(all.len() as f64 > 0.75 * 5.0 * scenes.len() as f64, "{} distinct of {}", all.len(), 5 * scenes.len());
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let trials = 2_000;
        let with_duplicate = (0..trials)
            .filter(|_| {
                let batch: Vec<&&String> = first.choose_multiple(&mut rng, 32).collect();
                let distinct: std::collections::HashSet<_> = batch.iter().collect();
                distinct.len() < batch.len()
            })
            .count();
        println!("{} distinct captions of {}; {with_duplicate} of {trials} batches of 32 repeat a first caption", all.len(), 5 * scenes.len());
        assert!(with_duplicate * 20 < trials, "{with_duplicate} of {trials} batches hold a duplicate first caption");
    }

    #[test]
    fn bad_settings_name_the_field() {
        for bad in [
            CaptionedShapesConfig { max_shapes: 4, ..Default::default() },
            CaptionedShapesConfig { captions_per_image: 0, ..Default::default() },
            CaptionedShapesConfig { image_size: 8, ..Default::default() },
        ] {
            let e = captioned_scenes(&bad).unwrap_err().to_string();
            assert!(e.contains("CaptionedShapesConfig::"), "{e}");
        }
    }

    #[test]
    fn written_in_flickr8ks_layout_and_read_back_by_its_reader() {
        let dir = tempfile::tempdir().unwrap();
        let config = CaptionedShapesConfig {
            len: 6,
            image_size: 32,
            seed: 1,
            ..Default::default()
        };
        let choice = flickr8k_or_captioned_shapes(
            dir.path().join("Flickr8k"),
            dir.path().join("shapes"),
            &config,
        )
        .unwrap();
        assert!(choice.stand_in);
        let set = Flickr8k::load(&choice.dir).unwrap().with_image_size(32);
        assert_eq!(set.len(), 6);
        assert_eq!(set.pairs(true).len(), 30);
        let header = std::fs::read_to_string(dir.path().join("shapes/captions.txt")).unwrap();
        assert!(
            header.starts_with("image,caption\nshape_00000.jpg,") && header.lines().count() == 31,
            "{header}"
        );
        let images = set.images(&[0, 5], tch::Device::Cpu).unwrap();
        assert_eq!(images.size(), [2, 3, 32, 32]);
        // A shape on black: some pixels lit, most dark.
        let lit = images
            .get(0)
            .sum_dim_intlist([0].as_slice(), false, tch::Kind::Float)
            .gt(0.1)
            .sum(tch::Kind::Int64)
            .int64_value(&[]);
        assert!(lit > 5 && lit < 32 * 32 / 2, "{lit}");
        // The real data set wins once its captions.txt exists.
        write_captioned_shapes(
            dir.path().join("Flickr8k"),
            &CaptionedShapesConfig { len: 2, ..config },
        )
        .unwrap();
        let choice = flickr8k_or_captioned_shapes(
            dir.path().join("Flickr8k"),
            dir.path().join("shapes"),
            &config,
        )
        .unwrap();
        assert!(!choice.stand_in);
        assert_eq!(Flickr8k::load(&choice.dir).unwrap().len(), 2);
    }
}
