use llmetry::agent;

struct Planner;

#[agent]
impl Planner {
    fn plan(&self) -> u32 {
        1
    }
}

fn main() {
    let _ = Planner.plan();
}
