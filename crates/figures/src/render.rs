//! Rendering: every figure is drawn twice from the same code, to SVG (text as glyph outlines) and to
//! PNG, and converted from that SVG to PDF; every file written atomically.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::FigureError;
use crate::style::register_fonts;

/// A plotters backend error, boxed.
pub type DrawError = Box<dyn std::error::Error + Send + Sync>;

/// The result of drawing.
pub type DrawResult = Result<(), DrawError>;

/// Something that can draw itself on any plotters backend.
pub trait Figure {
    /// Canvas size in pixels (width, height).
    fn size(&self) -> (u32, u32);
    /// Draws the figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Draws `fig` to `<dir>/<id>.svg` and `<dir>/<id>.png`, converts the SVG to `<dir>/<id>.pdf` (all
/// written atomically) and returns the three paths.
pub fn render(fig: &impl Figure, dir: &Path, id: &str) -> Result<Vec<PathBuf>, FigureError> {
    register_fonts();
    std::fs::create_dir_all(dir).map_err(|e| FigureError::io(dir, e))?;
    let size = fig.size();
    let draw_err = |e: DrawError| FigureError::Draw(format!("{id}: {e}"));

    let svg_path = dir.join(format!("{id}.svg"));
    let mut svg = String::new();
    // The panel helpers note what they draw on the first pass: that is the figure's tidy table.
    crate::tidy::start();
    let drawn = (|| {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(e.into()))?;
        fig.draw(&root).map_err(draw_err)?;
        root.present().map_err(|e| draw_err(e.into()))
    })();
    let table = crate::tidy::take();
    drawn?;
    if !table.is_empty() {
        table.write(dir, id)?;
    }
    let svg = standard_image_mime(&crate::outline::outline_text(&svg));
    attnlab_core::io::write_atomic(&svg_path, svg.as_bytes()).map_err(|e| FigureError::io(&svg_path, e))?;
    let pdf_path = dir.join(format!("{id}.pdf"));
    let pdf = pdf_of_svg(&svg).map_err(|e| FigureError::Draw(format!("{id}: PDF: {e}")))?;
    attnlab_core::io::write_atomic(&pdf_path, &pdf).map_err(|e| FigureError::io(&pdf_path, e))?;

    let png_path = dir.join(format!("{id}.png"));
    // A temporary name no other writer (process, host) can pick; renamed into place when whole.
    let tmp = dir.join(format!(".tmp-{}-{id}.png", attnlab_core::io::unique_tag()));
    {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(e.into()))?;
        fig.draw(&root).map_err(draw_err)?;
        root.present().map_err(|e| draw_err(e.into()))?;
    }
    std::fs::rename(&tmp, &png_path).map_err(|e| FigureError::io(&png_path, e))?;
    Ok(vec![svg_path, png_path, pdf_path])
}

/// `svg` with its embedded bitmaps under the registered MIME type: plotters writes heat maps as
/// `data:png;base64,…`, which browsers may refuse; the standard is `data:image/png;base64,…`.
pub fn standard_image_mime(svg: &str) -> String {
    svg.replace("\"data:png;base64,", "\"data:image/png;base64,")
}

/// The PDF of an SVG (one page of the SVG's size, 1 px = 1 pt), by svg2pdf. The SVG's text must
/// already be outlines ([`crate::outline::outline_text`]): svg2pdf is built without fonts.
pub fn pdf_of_svg(svg: &str) -> Result<Vec<u8>, String> {
    use svg2pdf::usvg;
    let tree = usvg::Tree::from_str(svg, &usvg::Options::default()).map_err(|e| e.to_string())?;
    let pdf = svg2pdf::to_pdf(&tree, svg2pdf::ConversionOptions::default(), svg2pdf::PageOptions::default())
        .map_err(|e| e.to_string())?;
    Ok(sorted_resource_entries(pdf))
}

/// `pdf` with each run of consecutive resource-dictionary lines (`/xo3 10 0 R`) sorted, outside
/// streams. svg2pdf writes a page's resources in hash-map order, which changes from run to run;
/// sorting whole lines in place keeps every byte offset (the xref table stays valid) and makes the
/// same figure the same file every time.
fn sorted_resource_entries(mut pdf: Vec<u8>) -> Vec<u8> {
    let is_entry = |line: &[u8]| {
        let t = line.trim_ascii();
        t.first() == Some(&b'/') && t.ends_with(b" 0 R") && t.iter().filter(|&&b| b == b' ').count() == 3
    };
    let mut lines: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for (i, &b) in pdf.iter().enumerate() {
        if b == b'\n' {
            lines.push((start, i));
            start = i + 1;
        }
    }
    let mut in_stream = false;
    let mut i = 0;
    while i < lines.len() {
        let line = &pdf[lines[i].0..lines[i].1];
        if in_stream {
            in_stream = line != b"endstream";
            i += 1;
            continue;
        }
        if line == b"stream" {
            in_stream = true;
            i += 1;
            continue;
        }
        let mut j = i;
        while j < lines.len() && is_entry(&pdf[lines[j].0..lines[j].1]) {
            j += 1;
        }
        if j > i + 1 {
            let (from, to) = (lines[i].0, lines[j - 1].1);
            let mut run: Vec<Vec<u8>> = lines[i..j].iter().map(|&(a, b)| pdf[a..b].to_vec()).collect();
            run.sort();
            pdf[from..to].copy_from_slice(&run.join(&b'\n'));
        }
        i = j.max(i + 1);
    }
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A heat map drawn by plotters reaches the SVG as `data:image/png`, and the PDF keeps it.
    #[test]
    fn embedded_bitmaps_use_the_standard_mime_type() {
        struct Heat;
        impl Figure for Heat {
            fn size(&self) -> (u32, u32) {
                (60, 40)
            }
            fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
            where
                DB::ErrorType: 'static,
            {
                let pixels: Vec<u8> = (0..8 * 8 * 3).map(|i| (i * 7 % 256) as u8).collect();
                let img = plotters::element::BitMapElement::with_owned_buffer((5, 5), (8, 8), pixels)
                    .ok_or("a bitmap of 8 × 8 RGB pixels")?;
                root.draw(&img)?;
                Ok(())
            }
        }
        let dir = std::env::temp_dir().join(format!("attnlab-mime-{}", std::process::id()));
        let paths = render(&Heat, &dir, "heat").unwrap_or_else(|e| panic!("render: {e}"));
        let svg = std::fs::read_to_string(&paths[0]).unwrap_or_default();
        assert!(svg.contains("\"data:image/png;base64,") && !svg.contains("\"data:png;"), "{svg}");
        let pdf = std::fs::read(&paths[2]).unwrap_or_default();
        assert!(pdf.windows(6).any(|w| w == b"/Image"), "the PDF lost the bitmap");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
