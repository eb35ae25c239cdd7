use llmetry::task;

#[task(name)]
fn fetch_logs() -> u32 {
    1
}

fn main() {
    let _ = fetch_logs();
}
