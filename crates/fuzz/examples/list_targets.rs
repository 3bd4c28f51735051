//! Prints the fuzz targets' names, one per line (`--slow`: only the slow ones).

fn main() {
    let slow_only = std::env::args().any(|a| a == "--slow");
    for t in verai_fuzz::all() {
        if !slow_only || t.slow {
            println!("{}", t.name);
        }
    }
}
