//! Figures: image grids from tensors, line charts; inline in notebooks, files elsewhere.
mod bar_chart;
mod figure;
mod heatmap;
mod image;
mod labeled_grid;
mod line_plot;
mod nn_grid;
mod retrieval_grid;
mod scatter_grid;

pub use self::bar_chart::BarChart;
pub use self::figure::{Display, Figure};
pub use self::heatmap::Heatmap;
pub use self::image::{
    image_figure, looks_like_image, make_grid, show_images, tensor_to_image, to_unit_range,
    GridConfig,
};
pub use self::labeled_grid::labeled_grid;
pub use self::line_plot::{LinePlot, Series};
pub use self::nn_grid::{nn_grid, shapes_nn_grid};
pub use self::retrieval_grid::retrieval_grid;
pub use self::scatter_grid::{ScatterGrid, ScatterPanel};
