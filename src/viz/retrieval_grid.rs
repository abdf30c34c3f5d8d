//! Text-to-image retrieval shown as a grid of the retrieved images under the query.
use super::figure::{svg_escape, Figure};
use super::image::{make_grid, svg_image, GridConfig};
use crate::{Error, Result};
use tch::Tensor;

/// The query as a title over the images `[K, 3, H, W]` (best match first, read
/// left to right, top to bottom), `ncols` per row, each image scaled by `scale`.
/// An SVG holding one PNG, so that no font has to be installed.
pub fn retrieval_grid(query: &str, images: &Tensor, ncols: usize, scale: usize) -> Result<Figure> {
    if images.dim() != 4 || images.size()[0] == 0 {
        return Err(Error::shape("retrieval grid", &images.size(), "[K, 3, H, W] with K >= 1"));
    }
    let grid = make_grid(
        images,
        &GridConfig {
            ncols: ncols.max(1),
            padding: 2,
            pad_value: 1.0,
            scale: scale.max(1),
        },
    )?;
    let (w, h, title) = (grid.size()[2], grid.size()[1], 30);
    let escaped = svg_escape(query);
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{total}" viewBox="0 0 {w} {total}"><rect width="100%" height="100%" fill="white"/><text x="{cx}" y="20" font-family="sans-serif" font-size="16" text-anchor="middle">"{escaped}"</text>{image}</svg>"#,
        total = h + title,
        cx = w / 2,
        image = svg_image(&grid, 0, title)?,
    );
    Ok(Figure::Svg(svg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use tch::{Device, Kind};

    #[test]
    fn title_is_escaped_and_the_grid_is_embedded_as_png() {
        let images = Tensor::rand([9, 3, 8, 8], (Kind::Float, Device::Cpu));
        let Figure::Svg(svg) = retrieval_grid("dogs <in> the \"park\"", &images, 3, 2).unwrap()
        else {
            panic!("an SVG")
        };
        assert!(
            svg.contains("&quot;dogs &lt;in&gt; the &quot;park&quot;&quot;")
                || svg.contains("dogs &lt;in&gt; the &quot;park&quot;"),
            "{svg:.300}"
        );
        let start = svg.find("base64,").unwrap() + 7;
        let end = start + svg[start..].find('"').unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(&svg[start..end])
            .unwrap();
        let grid = image::load_from_memory(&png).unwrap();
        // 3 columns of 8 px scaled by 2, with 2 px padding (scaled too): (3 * 10 + 2) * 2.
        assert_eq!((grid.width(), grid.height()), (64, 64));
        assert!(retrieval_grid(
            "q",
            &Tensor::zeros([0, 3, 8, 8], (Kind::Float, Device::Cpu)),
            3,
            1
        )
        .is_err());
    }
}
