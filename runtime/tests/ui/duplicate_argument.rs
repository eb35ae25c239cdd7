use llmetry::task;

#[task(name = "a", name = "b")]
fn fetch_logs() -> u32 {
    1
}

fn main() {
    let _ = fetch_logs();
}
