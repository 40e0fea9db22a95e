//! Converts already drawn SVGs the way `cargo xtask figures` writes new ones: text to glyph
//! outlines (in place) and a PDF beside each. For figures whose results are not in the cache, so
//! they cannot be redrawn: `cargo run -p attnlab-figures --example outline_svg -- figures/X.svg …`.

use std::path::Path;

fn main() -> Result<(), String> {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        return Err("usage: outline_svg FILE.svg [FILE.svg …]".into());
    }
    for f in files {
        let path = Path::new(&f);
        let svg = std::fs::read_to_string(path).map_err(|e| format!("{f}: {e}"))?;
        let outlined = attnlab_figures::outline::outline_text(&svg);
        let pdf = attnlab_figures::render::pdf_of_svg(&outlined).map_err(|e| format!("{f}: PDF: {e}"))?;
        attnlab_core::io::write_atomic(path, outlined.as_bytes()).map_err(|e| format!("{f}: {e}"))?;
        let pdf_path = path.with_extension("pdf");
        attnlab_core::io::write_atomic(&pdf_path, &pdf).map_err(|e| format!("{}: {e}", pdf_path.display()))?;
        println!("{f}: {} text elements outlined; {} written", svg.matches("<text").count(), pdf_path.display());
    }
    Ok(())
}
