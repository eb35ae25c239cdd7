use llmetry::workflow;

#[workflow(name = "rca" version = 2)]
fn run() -> u32 {
    1
}

fn main() {
    let _ = run();
}
