use llmetry::agent;

#[agent(capture_input = 1)]
fn plan(goal: &str) -> usize {
    goal.len()
}

fn main() {
    let _ = plan("g");
}
