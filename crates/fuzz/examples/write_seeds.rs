//! Writes every target's seeds as libFuzzer corpus files: `DIR/NAME/seed-I`.
#![allow(clippy::expect_used)]

fn main() {
    let dir = std::env::args().nth(1).expect("usage: write_seeds DIR");
    for t in verai_fuzz::all() {
        let d = std::path::Path::new(&dir).join(t.name);
        std::fs::create_dir_all(&d).expect("create the corpus directory");
        let mut seeds = (t.seeds)();
        seeds.extend(verai_fuzz::regressions(t.name));
        for (i, s) in seeds.iter().enumerate() {
            std::fs::write(d.join(format!("seed-{i}")), s).expect("write a seed");
        }
    }
}
