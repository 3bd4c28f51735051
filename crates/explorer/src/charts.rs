//! Small SVG line charts (plotters' SVG backend), rendered on the server so pages work
//! without JavaScript.

use plotters::prelude::*;

/// A line chart of `points` (x, y) titled `title`, `y_label` on the y axis; an empty series
/// draws an empty frame with "no data".
pub fn line(title: &str, y_label: &str, points: &[(f64, f64)]) -> String {
    let mut svg = String::new();
    let result = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
        let root = SVGBackend::with_string(&mut svg, (520, 220)).into_drawing_area();
        root.fill(&WHITE)?;
        let (x0, x1) = points
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let (x0, x1) = if points.is_empty() || x0 >= x1 {
            (0.0, 1.0)
        } else {
            (x0, x1)
        };
        let y1 = points.iter().map(|p| p.1).fold(0.0f64, f64::max).max(1e-9) * 1.1;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 14))
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(48)
            .build_cartesian_2d(x0..x1, 0.0..y1)?;
        chart
            .configure_mesh()
            .y_desc(y_label)
            .x_labels(6)
            .y_labels(5)
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        if points.is_empty() {
            chart.draw_series(std::iter::once(Text::new(
                "no data",
                (x0 + (x1 - x0) / 2.0, y1 / 2.0),
                ("sans-serif", 12),
            )))?;
        } else {
            chart.draw_series(LineSeries::new(points.iter().copied(), &BLUE))?;
        }
        root.present()?;
        Ok(())
    })();
    if result.is_err() {
        return String::from("<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>");
    }
    svg
}

#[cfg(test)]
mod tests {
    #[test]
    fn charts_render_with_and_without_data() {
        let s = super::line("tx per block", "txs", &[(1.0, 3.0), (2.0, 5.0), (3.0, 1.0)]);
        assert!(s.starts_with("<svg") && s.contains("polyline"), "{s}");
        let e = super::line("empty", "x", &[]);
        assert!(e.contains("no data"));
    }
}
