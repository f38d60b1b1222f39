use versioned::Versioned;

#[derive(Versioned)]
struct User;

fn main() {}
