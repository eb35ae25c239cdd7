use llmetry::task;

#[task(name = 3)]
fn fetch_logs() -> u32 {
    1
}

fn main() {
    let _ = fetch_logs();
}
