//! Scatter plots of 2-D embeddings coloured by label, several side by side.
use super::figure::{Display, Figure};
use super::line_plot::plot_err;
use crate::{Error, Result};
use plotters::prelude::*;
use tch::{Kind, Tensor};

/// Ten distinct colours (matplotlib's tab10), one per label 0-9; larger labels wrap.
const TAB10: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// One panel: a title and labelled 2-D points.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterPanel {
    pub title: String,
    pub points: Vec<[f64; 2]>,
    pub labels: Vec<i64>,
}

/// Panels in a grid of `columns`, each point coloured by its label, with one legend.
///
/// ```
/// use replearn::viz::ScatterGrid;
/// use tch::Tensor;
/// let points = Tensor::from_slice(&[0.0f32, 0.0, 1.0, 1.0]).view([2, 2]);
/// let labels = Tensor::from_slice(&[0i64, 1]);
/// let figure = ScatterGrid::new(2).panel("PCA", &points, &labels)?.render()?;
/// assert_eq!(figure.mime_type(), "image/svg+xml");
/// # Ok::<(), replearn::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterGrid {
    pub panels: Vec<ScatterPanel>,
    pub columns: usize,
    /// Pixels per panel.
    pub panel_size: (u32, u32),
    /// Names of labels 0, 1, ... for the legend (the numbers when empty).
    pub label_names: Vec<String>,
}

impl ScatterGrid {
    pub fn new(columns: usize) -> Self {
        ScatterGrid { panels: Vec::new(), columns: columns.max(1), panel_size: (300, 300), label_names: Vec::new() }
    }

    pub fn label_names(mut self, names: &[&str]) -> Self {
        self.label_names = names.iter().map(|n| n.to_string()).collect();
        self
    }

    /// Adds a panel of `points` `[N, 2]` with `labels` `[N]`.
    pub fn panel(mut self, title: impl Into<String>, points: &Tensor, labels: &Tensor) -> Result<Self> {
        let title = title.into();
        let size = points.size();
        if size.len() != 2 || size[1] != 2 {
            return Err(Error::invalid(format!("the points of panel '{title}'"), format!("shape {size:?}"), "[N, 2]"));
        }
        let labels = Vec::<i64>::try_from(labels.to_kind(Kind::Int64).view([-1])).map_err(|e| Error::invalid("labels", e, "an integer tensor [N]"))?;
        if labels.len() as i64 != size[0] {
            return Err(Error::invalid(format!("the labels of panel '{title}'"), labels.len(), format!("one per point ({})", size[0])));
        }
        let flat = Vec::<f64>::try_from(points.to_kind(Kind::Double).contiguous().view([-1])).map_err(|e| Error::invalid("points", e, "a float tensor"))?;
        if flat.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid(format!("the points of panel '{title}'"), "NaN or infinite coordinates", "finite numbers"));
        }
        let points = flat.chunks(2).map(|c| [c[0], c[1]]).collect();
        self.panels.push(ScatterPanel { title, points, labels });
        Ok(self)
    }

    pub fn render(&self) -> Result<Figure> {
        if self.panels.is_empty() {
            return Err(Error::Plot("a scatter grid needs at least one panel".into()));
        }
        let rows = self.panels.len().div_ceil(self.columns);
        let (w, h) = self.panel_size;
        let legend_height = 30;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (w * self.columns as u32, h * rows as u32 + legend_height)).into_drawing_area();
            root.fill(&WHITE).map_err(plot_err)?;
            let (grid, legend) = root.split_vertically(h * rows as u32);
            let areas = grid.split_evenly((rows, self.columns));
            let mut classes: Vec<i64> = self.panels.iter().flat_map(|p| p.labels.iter().copied()).collect();
            classes.sort_unstable();
            classes.dedup();
            for (panel, area) in self.panels.iter().zip(&areas) {
                let range = |axis: usize| {
                    let (lo, hi) = panel.points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p[axis]), hi.max(p[axis])));
                    let pad = ((hi - lo) * 0.05).max(1e-9);
                    (lo - pad)..(hi + pad)
                };
                let mut chart = ChartBuilder::on(area)
                    .caption(&panel.title, ("sans-serif", 16))
                    .margin(6)
                    .build_cartesian_2d(range(0), range(1))
                    .map_err(plot_err)?;
                chart.configure_mesh().disable_mesh().x_labels(0).y_labels(0).draw().map_err(plot_err)?;
                chart
                    .draw_series(panel.points.iter().zip(&panel.labels).map(|(p, &l)| {
                        let (r, g, b) = TAB10[l.rem_euclid(10) as usize];
                        Circle::new((p[0], p[1]), 2, RGBColor(r, g, b).mix(0.7).filled())
                    }))
                    .map_err(plot_err)?;
            }
            // One legend for all panels: a coloured dot and the class name.
            let step = (w * self.columns as u32) as i32 / classes.len().max(1) as i32;
            for (i, class) in classes.iter().enumerate() {
                let (r, g, b) = TAB10[class.rem_euclid(10) as usize];
                let x = i as i32 * step + 10;
                legend.draw(&Circle::new((x, 15), 5, RGBColor(r, g, b).filled())).map_err(plot_err)?;
                let name = self.label_names.get(*class as usize).cloned().unwrap_or_else(|| class.to_string());
                legend.draw(&Text::new(name, (x + 9, 8), ("sans-serif", 13))).map_err(plot_err)?;
            }
            root.present().map_err(plot_err)?;
        }
        Ok(Figure::Svg(svg))
    }
}

impl Display for ScatterGrid {
    fn evcxr_display(&self) {
        super::figure::show(self.render());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_every_point_in_its_panel_and_a_legend_entry_per_class() {
        let points = Tensor::from_slice(&[0.0f64, 0.0, 1.0, 2.0, 3.0, 1.0]).view([3, 2]);
        let labels = Tensor::from_slice(&[0i64, 1, 1]);
        let grid = ScatterGrid::new(2).label_names(&["zero", "one"]).panel("A", &points, &labels).unwrap().panel("B", &points, &labels).unwrap();
        let Figure::Svg(svg) = grid.render().unwrap() else { panic!("an SVG") };
        // 2 panels x 3 points + 2 legend dots.
        assert_eq!(svg.matches("<circle").count(), 8, "{svg}");
        let texts: Vec<&str> = svg.split("<text").skip(1).map(|t| t.split('>').nth(1).unwrap_or("").trim_end_matches("</text")).collect();
        for word in ["zero", "one", "A", "B"] {
            assert!(texts.iter().any(|t| t.trim() == word), "{word} not in {texts:?}");
        }
        let e = ScatterGrid::new(1).panel("bad", &points, &Tensor::from_slice(&[0i64])).unwrap_err().to_string();
        assert!(e.contains("one per point (3)"), "{e}");
    }
}
