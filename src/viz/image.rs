//! Tensors as pictures: one image (`[C, H, W]`) or a grid of a batch (`[B, C, H, W]`).
use super::figure::{Display, Figure};
use crate::{Error, Result};
use image::{ImageEncoder, RgbImage};
use tch::{Kind, Tensor};

/// How to lay out a batch of images.
#[derive(Debug, Clone, PartialEq)]
pub struct GridConfig {
    /// Images per row.
    pub ncols: usize,
    /// Pixels between images (filled with `pad_value`).
    pub padding: usize,
    /// Grey level of the padding, in [0, 1].
    pub pad_value: f32,
    /// Integer upscaling of the final picture (nearest neighbour), so that 64 px images are visible.
    pub scale: usize,
}

impl Default for GridConfig {
    fn default() -> Self {
        GridConfig {
            ncols: 8,
            padding: 2,
            pad_value: 1.0,
            scale: 1,
        }
    }
}

/// Maps a float image tensor to [0, 1]: values already in [0, 1] stay, values in
/// [-1, 1] (any negative value) are mapped by `(x + 1) / 2`; the result is clamped.
/// Integer tensors are read as bytes (0..=255).
pub fn to_unit_range(images: &Tensor) -> Tensor {
    let x = images.to_device(tch::Device::Cpu);
    if !x.is_floating_point() {
        return (x.to_kind(Kind::Float) / 255.0).clamp(0.0, 1.0);
    }
    let x = x.to_kind(Kind::Float);
    let min = if x.numel() == 0 {
        0.0
    } else {
        x.min().double_value(&[])
    };
    let x = if min < 0.0 { (x + 1.0) / 2.0 } else { x };
    x.clamp(0.0, 1.0)
}

/// Turns `[C, H, W]` or `[H, W]` (C = 1 or 3) into an RGB image.
pub fn tensor_to_image(image: &Tensor) -> Result<RgbImage> {
    let chw = match image.size().as_slice() {
        [h, w] => image.reshape([1, *h, *w]),
        [c, _, _] if *c == 1 || *c == 3 => image.shallow_clone(),
        _ => {
            return Err(Error::shape("image", &image.size(), "[C, H, W] or [H, W] with C = 1 or 3"))
        }
    };
    let chw = to_unit_range(&chw);
    let chw = if chw.size()[0] == 1 {
        chw.repeat([3, 1, 1])
    } else {
        chw
    };
    let (h, w) = (chw.size()[1] as u32, chw.size()[2] as u32);
    let hwc = (chw.permute([1, 2, 0]) * 255.0)
        .round()
        .to_kind(Kind::Uint8)
        .contiguous();
    let bytes = Vec::<u8>::try_from(hwc.flatten(0, -1))?;
    Ok(RgbImage::from_raw(w, h, bytes).expect("a [3, H, W] tensor holds H * W * 3 bytes"))
}

/// Lays out a batch `[B, C, H, W]` (C = 1 or 3) into one `[3, H', W']` grid tensor in [0, 1].
pub fn make_grid(images: &Tensor, config: &GridConfig) -> Result<Tensor> {
    let size = images.size();
    let (b, c, h, w) = match size.as_slice() {
        [b, c, h, w] if *c == 1 || *c == 3 => (*b, *c, *h, *w),
        _ => {
            return Err(Error::shape("image batch", &size, "[B, C, H, W] with C = 1 or 3"))
        }
    };
    if config.ncols == 0 {
        return Err(Error::invalid("GridConfig::ncols", 0, "must be at least 1"));
    }
    let x = to_unit_range(images);
    let x = if c == 1 { x.repeat([1, 3, 1, 1]) } else { x };
    let ncols = (config.ncols as i64).min(b.max(1));
    let nrows = (b + ncols - 1) / ncols;
    let p = config.padding as i64;
    let grid = Tensor::full(
        [3, nrows * (h + p) + p, ncols * (w + p) + p],
        config.pad_value as f64,
        (Kind::Float, tch::Device::Cpu),
    );
    for i in 0..b {
        let (r, col) = (i / ncols, i % ncols);
        let (y0, x0) = (p + r * (h + p), p + col * (w + p));
        grid.narrow(1, y0, h).narrow(2, x0, w).copy_(&x.get(i));
    }
    Ok(upscale(&grid, config.scale))
}

/// Nearest-neighbour upscaling of `[C, H, W]` by an integer factor.
pub(crate) fn upscale(chw: &Tensor, scale: usize) -> Tensor {
    if scale <= 1 {
        return chw.shallow_clone();
    }
    let s = scale as i64;
    chw.repeat_interleave_self_int(s, 1, None)
        .repeat_interleave_self_int(s, 2, None)
}

/// Encodes `[C, H, W]` / `[H, W]` as a PNG figure.
pub fn image_figure(image: &Tensor) -> Result<Figure> {
    let img = tensor_to_image(image)?;
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png).write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(Figure::Png(png))
}

/// `[C, H, W]` as an SVG `<image>` element at (`x`, `y`), its pixels
/// embedded as a PNG, so that a figure needs no file and no font beside it.
pub(crate) fn svg_image(image: &Tensor, x: i64, y: i64) -> Result<String> {
    use base64::Engine;
    let Figure::Png(png) = image_figure(image)? else {
        unreachable!("image_figure encodes a PNG")
    };
    let (h, w) = (image.size()[image.dim() - 2], image.size()[image.dim() - 1]);
    Ok(format!(
        r#"<image x="{x}" y="{y}" width="{w}" height="{h}" href="data:image/png;base64,{}"/>"#,
        base64::engine::general_purpose::STANDARD.encode(&png)
    ))
}

/// A batch `[B, C, H, W]` as a grid picture, or a single `[C, H, W]` image.
///
/// Accepts [0, 1] or [-1, 1] floats and u8 tensors, on any device.
pub fn show_images(images: &Tensor, config: &GridConfig) -> Result<Figure> {
    match images.dim() {
        4 => image_figure(&make_grid(images, config)?),
        _ => image_figure(&upscale(images, config.scale)),
    }
}

/// Whether a tensor looks like an image or a batch of images (C = 1 or 3, H, W >= 8).
pub fn looks_like_image(t: &Tensor) -> bool {
    let s = t.size();
    let chw = match s.as_slice() {
        [c, h, w] | [_, c, h, w] => Some((*c, *h, *w)),
        _ => None,
    };
    matches!(chw, Some((c, h, w)) if (c == 1 || c == 3) && h >= 8 && w >= 8)
        && t.kind() != Kind::Bool
}

/// Tensors show as a picture when they look like images, else as text.
impl Display for Tensor {
    fn evcxr_display(&self) {
        let text = format!("{self}");
        let picture = if looks_like_image(self) {
            let scale = if self.size()[self.dim() - 1] < 64 {
                2
            } else {
                1
            };
            show_images(
                self,
                &GridConfig {
                    scale,
                    ..GridConfig::default()
                },
            )
            .ok()
        } else {
            None
        };
        if let Some(fig) = picture {
            fig.evcxr_display();
        }
        println!("EVCXR_BEGIN_CONTENT text/plain\n{text}\nEVCXR_END_CONTENT");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_image_round_trips_pixels() {
        // Red 2x3 image in [-1, 1]: red channel 1, others -1.
        let img = Tensor::from_slice(&[1.0f32; 6]).reshape([1, 2, 3]);
        let img = Tensor::cat(&[img.shallow_clone(), -img.shallow_clone(), -img], 0);
        let rgb = tensor_to_image(&img).unwrap();
        assert_eq!((rgb.width(), rgb.height()), (3, 2));
        assert!(rgb.pixels().all(|p| p.0 == [255, 0, 0]));
    }

    #[test]
    fn unit_range_values_are_kept() {
        let img = Tensor::from_slice(&[0.0f32, 0.5, 1.0, 0.25]).reshape([1, 2, 2]);
        let rgb = tensor_to_image(&img).unwrap();
        let greys: Vec<u8> = rgb.pixels().map(|p| p.0[0]).collect();
        assert_eq!(greys, vec![0, 128, 255, 64]);
    }

    #[test]
    fn grid_places_images_with_padding() {
        // 3 images of 2x2, values 0.1, 0.2, 0.3, two columns, padding 1 of value 1.
        let b = Tensor::from_slice(&[0.1f32, 0.2, 0.3])
            .reshape([3, 1, 1, 1])
            .expand([3, 1, 2, 2], false);
        let cfg = GridConfig {
            ncols: 2,
            padding: 1,
            pad_value: 1.0,
            scale: 1,
        };
        let grid = make_grid(&b, &cfg).unwrap();
        assert_eq!(grid.size(), vec![3, 7, 7]);
        let at = |y: i64, x: i64| grid.double_value(&[0, y, x]);
        assert!((at(1, 1) - 0.1).abs() < 1e-6);
        assert!((at(1, 4) - 0.2).abs() < 1e-6);
        assert!((at(4, 1) - 0.3).abs() < 1e-6);
        assert_eq!(at(0, 0), 1.0);
        assert_eq!(at(4, 4), 1.0, "the empty slot is padding");
    }

    #[test]
    fn bad_shapes_are_named() {
        let err = tensor_to_image(&Tensor::zeros([5, 4, 4], (Kind::Float, tch::Device::Cpu)))
            .unwrap_err();
        assert!(err.to_string().contains("[5, 4, 4]"), "{err}");
        assert!(!looks_like_image(&Tensor::zeros(
            [10, 4],
            (Kind::Float, tch::Device::Cpu)
        )));
    }

    #[test]
    fn png_figure_decodes_back() {
        let img = Tensor::rand([3, 16, 12], (Kind::Float, tch::Device::Cpu));
        let Figure::Png(bytes) = show_images(&img, &GridConfig::default()).unwrap() else {
            panic!()
        };
        let decoded = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!((decoded.width(), decoded.height()), (12, 16));
        let expected = (img.double_value(&[1, 3, 5]) * 255.0).round() as u8;
        assert_eq!(decoded.get_pixel(5, 3).0[1], expected);
    }
}
