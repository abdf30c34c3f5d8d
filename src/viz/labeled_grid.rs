//! A batch of images with a caption under each (class names, scores), as one SVG.
use super::figure::{svg_escape, Figure};
use super::image::{svg_image, upscale};
use crate::{Error, Result};
use tch::Tensor;

/// Height of a one-line caption band under each image, in pixels.
const CAPTION: i64 = 18;
/// Height of each further caption line.
const LINE: i64 = 14;
/// Pixels between images.
const GAP: i64 = 4;

/// The images `[B, C, H, W]` (C = 1 or 3, [0, 1] or [-1, 1]) in rows of
/// `ncols`, each scaled by `scale` and captioned with its entry of `labels`
/// (one per image). Each image is embedded as a PNG, so no font has to be
/// installed to render the pictures.
pub fn labeled_grid(images: &Tensor, labels: &[String], ncols: usize, scale: usize) -> Result<Figure> {
    let size = images.size();
    let (b, h, w) = match size.as_slice() {
        [b, c, h, w] if *b >= 1 && (*c == 1 || *c == 3) => (*b, *h, *w),
        _ => return Err(Error::shape("labelled grid", &size, "[B, C, H, W] with B >= 1 and C = 1 or 3")),
    };
    if labels.len() as i64 != b {
        return Err(Error::invalid(
            "labels",
            labels.len(),
            &format!("must hold one caption per image ({b} images)"),
        ));
    }
    let (ncols, s) = (ncols.max(1) as i64, scale.max(1) as i64);
    // Captions wider than their image wrap at word boundaries (about 7 px per character at
    // 12 px); under small images, up to 10 characters a line still fit.
    let per_line = ((w * s) / 7).max(10) as usize;
    let wrapped: Vec<Vec<String>> = labels.iter().map(|l| wrap(l, per_line)).collect();
    let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1) as i64;
    let band = CAPTION + (lines - 1) * LINE;
    let (cell_w, cell_h) = (w * s + GAP, h * s + band + GAP);
    let cols = ncols.min(b);
    let rows = (b + ncols - 1) / ncols;
    let (total_w, total_h) = (cols * cell_w + GAP, rows * cell_h + GAP);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" viewBox="0 0 {total_w} {total_h}"><rect width="100%" height="100%" fill="white"/>"#
    );
    for (i, label_lines) in wrapped.iter().enumerate() {
        let i = i as i64;
        let (x, y) = (GAP + (i % ncols) * cell_w, GAP + (i / ncols) * cell_h);
        svg += &svg_image(&upscale(&images.get(i), scale), x, y)?;
        let cx = x + w * s / 2;
        let text: String = if label_lines.len() == 1 {
            svg_escape(&label_lines[0])
        } else {
            label_lines
                .iter()
                .enumerate()
                .map(|(k, line)| format!(r#"<tspan x="{cx}" dy="{}">{}</tspan>"#, if k == 0 { 0 } else { LINE }, svg_escape(line)))
                .collect()
        };
        svg += &format!(
            r#"<text x="{cx}" y="{ty}" font-family="sans-serif" font-size="12" text-anchor="middle">{text}</text>"#,
            ty = y + h * s + CAPTION - 5,
        );
    }
    svg += "</svg>";
    Ok(Figure::Svg(svg))
}

/// `text` cut into lines of at most `width` characters at spaces (a longer word keeps its own line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn every_image_gets_its_caption_in_order() {
        let images = Tensor::rand([3, 3, 8, 8], (Kind::Float, Device::Cpu));
        let labels: Vec<String> = ["cat", "dog <3", "ship"].iter().map(|s| s.to_string()).collect();
        let Figure::Svg(svg) = labeled_grid(&images, &labels, 2, 2).unwrap() else {
            panic!("an SVG")
        };
        assert_eq!(svg.matches("<image ").count(), 3);
        let (cat, dog, ship) = (svg.find(">cat<").unwrap(), svg.find(">dog &lt;3<").unwrap(), svg.find(">ship<").unwrap());
        assert!(cat < dog && dog < ship);
        // Two columns of 8 px images at scale 2: 2 * (16 + 4) + 4 wide, two rows of 16 + 18 + 4, + 4.
        assert!(svg.contains(r#"width="44" height="80""#), "{:.200}", svg);
    }

    #[test]
    fn long_captions_wrap_under_their_image_and_keep_every_word() {
        let images = Tensor::rand([2, 3, 8, 8], (Kind::Float, Device::Cpu));
        let long = "a small cyan disc near the top right and two other shapes".to_string();
        let Figure::Svg(svg) = labeled_grid(&images, &[long.clone(), "one".to_string()], 2, 4).unwrap() else {
            panic!("an SVG")
        };
        // 32 px wide images: 10 characters a line at most.
        let lines: Vec<&str> = svg.split("<tspan").skip(1).map(|t| t.split('>').nth(1).unwrap_or("").trim_end_matches("</tspan")).collect();
        assert_eq!(lines.join(" "), long);
        assert!(lines.len() > 1 && lines.iter().all(|l| l.chars().count() <= 10), "{lines:?}");
        assert_eq!(wrap("ab cd ef", 5), ["ab cd", "ef"]);
        assert_eq!(wrap("", 5), [""]);
        // The band grows by one line height per extra line.
        let height = 32 + 18 + (lines.len() as i64 - 1) * 14 + 4 + 4;
        assert!(svg.contains(&format!(r#"height="{height}""#)), "{:.200}", svg);
    }

    #[test]
    fn a_caption_count_that_does_not_match_is_an_error() {
        let images = Tensor::rand([2, 3, 8, 8], (Kind::Float, Device::Cpu));
        let err = labeled_grid(&images, &["one".to_string()], 8, 1).unwrap_err().to_string();
        assert!(err.contains("one caption per image (2 images)"), "{err}");
    }
}
