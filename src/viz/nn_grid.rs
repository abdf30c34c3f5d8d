//! The nearest-neighbour figure: per row a query, a gap, then its neighbours.
use super::figure::Figure;
use super::image::{show_images, to_unit_range, GridConfig};
use crate::data::{ImageSet, Shapes};
use crate::eval::nearest_neighbours;
use crate::{Error, Result};
use tch::{Device, Kind, Tensor};

/// Lays out `[Q, 1 + k, C, S, S]` (each row: the query, then its k neighbours)
/// as Q rows of: query, an empty gap, NN1..NNk.
pub fn nn_grid(rows: &Tensor) -> Result<Figure> {
    let size = rows.size();
    let [q, cols, c, h, w] = size[..] else {
        return Err(Error::shape("neighbour grid", &size, "[Q, 1 + k, C, S, S]"));
    };
    let x = to_unit_range(&rows.reshape([q * cols, c, h, w])).reshape([q, cols, c, h, w]);
    let gap = Tensor::ones([q, 1, c, h, w], (Kind::Float, Device::Cpu));
    let with_gap = Tensor::cat(&[x.narrow(1, 0, 1), gap, x.narrow(1, 1, cols - 1)], 1);
    show_images(
        &with_gap.reshape([q * (cols + 1), c, h, w]),
        &GridConfig {
            ncols: (cols + 1) as usize,
            padding: 2,
            pad_value: 1.0,
            scale: 1,
        },
    )
}

/// The original's figure for a shapes encoder: `features` `[N, D]` of `shapes`
/// (same order); each query row shows the query, then its `k` nearest by
/// squared L2, of which NN1 is the query itself.
pub fn shapes_nn_grid(
    shapes: &Shapes,
    features: &Tensor,
    queries: &[i64],
    k: usize,
) -> Result<Figure> {
    if features.size()[0] != shapes.len() as i64 {
        return Err(Error::shape(
            "shapes_nn_grid features",
            &features.size(),
            format!("one row per image ({}): encode the same set you show", shapes.len()),
        ));
    }
    let nn = nearest_neighbours(features, queries, k)?;
    let rows_idx = Tensor::cat(
        &[
            Tensor::from_slice(queries).unsqueeze(1),
            nn.to_device(Device::Cpu),
        ],
        1,
    );
    let idx = Vec::<i64>::try_from(rows_idx.reshape([-1]))?;
    let s = shapes.image_size as i64;
    let images =
        shapes
            .images(&idx, Device::Cpu)?
            .reshape([queries.len() as i64, k as i64 + 1, 3, s, s]);
    nn_grid(&images)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ShapesConfig;

    #[test]
    fn grid_has_query_gap_and_neighbours() {
        let shapes = Shapes::generate(&ShapesConfig {
            len: 30,
            seed: 2,
            ..Default::default()
        })
        .unwrap();
        // Features = hue only: neighbours are the closest hues.
        let hues: Vec<f32> = shapes.factors.iter().map(|f| f.hue).collect();
        let features = Tensor::from_slice(&hues).view([30, 1]);
        let Figure::Png(png) = shapes_nn_grid(&shapes, &features, &[0, 5], 4).unwrap() else {
            panic!()
        };
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        // 2 rows of query + gap + 4 neighbours, 64 px cells, 2 px padding.
        assert_eq!((img.width(), img.height()), (6 * 66 + 2, 2 * 66 + 2));
        // The gap cell is white.
        assert_eq!(img.get_pixel(66 + 2 + 30, 2 + 30).0, [255, 255, 255]);
        assert!(shapes_nn_grid(&shapes, &features.narrow(0, 0, 10), &[0], 4).is_err());
    }
}
