//! Grouped bar charts (accuracy per method, train beside test) as SVG.
use super::figure::{Display, Figure};
use super::line_plot::plot_err;
use crate::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Bars grouped by category: for each group (a method), one bar per series
/// (train, test), its value written above it.
///
/// ```
/// use replearn::viz::BarChart;
/// let figure = BarChart::new("accuracy", &["I", "II", "III"])
///     .series("train", vec![0.45, 0.87, 0.35])
///     .series("test", vec![0.26, 0.30, 0.21])
///     .render()?;
/// assert_eq!(figure.mime_type(), "image/svg+xml");
/// # Ok::<(), replearn::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    pub title: String,
    pub y_label: String,
    /// One name per group, left to right.
    pub groups: Vec<String>,
    /// (name, one value per group).
    pub series: Vec<(String, Vec<f64>)>,
    /// The y axis runs from 0 to at least this (1.0 suits accuracies).
    pub y_max: f64,
    pub width: u32,
    pub height: u32,
}

impl BarChart {
    /// An empty chart with these groups on the x axis.
    pub fn new(title: impl Into<String>, groups: &[&str]) -> Self {
        BarChart {
            title: title.into(),
            y_label: String::new(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            series: Vec::new(),
            y_max: 1.0,
            width: 640,
            height: 360,
        }
    }

    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = label.into();
        self
    }

    /// Adds one bar to every group: `values[g]` for group `g`.
    pub fn series(mut self, name: impl Into<String>, values: Vec<f64>) -> Self {
        self.series.push((name.into(), values));
        self
    }

    /// Draws the chart.
    pub fn render(&self) -> Result<Figure> {
        if self.groups.is_empty() || self.series.is_empty() {
            return Err(Error::Plot(format!("bar chart '{}' needs groups and at least one series", self.title)));
        }
        for (name, values) in &self.series {
            if values.len() != self.groups.len() {
                return Err(Error::invalid(
                    format!("the values of series '{name}'"),
                    values.len(),
                    format!("one per group ({})", self.groups.len()),
                ));
            }
            if values.iter().any(|v| !v.is_finite() || *v < 0.0) {
                return Err(Error::invalid(format!("the values of series '{name}'"), format!("{values:?}"), "finite and not negative"));
            }
        }
        let top = self.series.iter().flat_map(|(_, v)| v.iter().copied()).fold(self.y_max, f64::max) * 1.1;
        let (n_groups, n_series) = (self.groups.len(), self.series.len());
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (self.width, self.height)).into_drawing_area();
            root.fill(&WHITE).map_err(plot_err)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(&self.title, ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(56)
                .build_cartesian_2d(0.0..n_groups as f64, 0.0..top)
                .map_err(plot_err)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_label_formatter(&|_| String::new())
                .y_desc(&self.y_label)
                .draw()
                .map_err(plot_err)?;
            // Group names under the middle of each group, in pixels of the whole picture.
            for (g, name) in self.groups.iter().enumerate() {
                let (x, y) = chart.backend_coord(&(g as f64 + 0.5, 0.0));
                let style = ("sans-serif", 14).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
                root.draw(&Text::new(name.clone(), (x, y + 8), style)).map_err(plot_err)?;
            }
            // Each group's bars fill the middle 80% of its unit of x.
            let width = 0.8 / n_series as f64;
            for (s, (name, values)) in self.series.iter().enumerate() {
                let color = Palette99::pick(s).to_rgba();
                let bars = values.iter().enumerate().map(|(g, &v)| {
                    let x0 = g as f64 + 0.1 + s as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width * 0.95, v)], color.filled())
                });
                chart
                    .draw_series(bars)
                    .map_err(plot_err)?
                    .label(name.clone())
                    .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
                let texts = values.iter().enumerate().map(|(g, &v)| {
                    let x = g as f64 + 0.1 + (s as f64 + 0.2) * width;
                    Text::new(format!("{v:.3}"), (x, v + top * 0.02), ("sans-serif", 12).into_font())
                });
                chart.draw_series(texts).map_err(plot_err)?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(plot_err)?;
            root.present().map_err(plot_err)?;
        }
        Ok(Figure::Svg(svg))
    }
}

impl Display for BarChart {
    fn evcxr_display(&self) {
        super::figure::show(self.render());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect_heights(svg: &str) -> Vec<f64> {
        // plotters writes each filled bar as <rect x= y= width= height= .../>.
        svg.split("<rect").skip(1)
            .filter_map(|r| {
                let h = r.split("height=\"").nth(1)?.split('"').next()?.parse::<f64>().ok()?;
                let filled = r.contains("fill=\"#") && !r.contains("fill=\"#FFFFFF\"");
                filled.then_some(h)
            })
            .collect()
    }

    #[test]
    fn bar_heights_follow_the_values_and_every_value_is_written() {
        let Figure::Svg(svg) = BarChart::new("accuracy", &["I", "II"])
            .series("train", vec![0.2, 0.8])
            .series("test", vec![0.4, 0.1])
            .render()
            .unwrap() else { panic!("an SVG") };
        // plotters writes each text's content on a line of its own.
        let texts: Vec<&str> = svg.split("</text>").filter_map(|t| Some(t.rsplit_once('>')?.1.trim())).collect();
        for text in ["0.200", "0.800", "0.400", "0.100", "I", "II", "train", "test"] {
            assert!(texts.contains(&text), "{text} missing from {texts:?}");
        }
        // Four bars then two legend swatches; bar heights are proportional to the values.
        let h = rect_heights(&svg);
        assert!(h.len() >= 4, "{h:?}");
        // Series by series: train I, train II, test I, test II; pixels are rounded.
        let unit = h[1] / 0.8;
        for (got, want) in h[..4].iter().zip([0.2, 0.8, 0.4, 0.1]) {
            assert!((got - want * unit).abs() <= 2.0, "bars {h:?}");
        }
    }

    #[test]
    fn a_series_of_the_wrong_length_is_an_error() {
        let err = BarChart::new("a", &["I", "II", "III"]).series("train", vec![0.1]).render().unwrap_err().to_string();
        assert!(err.contains("one per group (3)"), "{err}");
    }
}
