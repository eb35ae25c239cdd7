use llmetry::workflow;

#[workflow(version = "x")]
fn run() -> u32 {
    1
}

fn main() {
    let _ = run();
}
