use versioned::Versioned;

// Read as meant: the key and the version are not also reported missing.
#[derive(Versioned)]
struct User {
    #[versioned(id)]
    user_id: i64,
    #[versioned(version)]
    version: i64,
}

fn main() {}
