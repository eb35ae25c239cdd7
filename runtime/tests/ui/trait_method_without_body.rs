use llmetry::task;

trait Fetch {
    #[task]
    fn fetch(&self) -> u32;
}

struct Logs;

impl Fetch for Logs {
    fn fetch(&self) -> u32 {
        1
    }
}

fn main() {
    let _ = Logs.fetch();
}
