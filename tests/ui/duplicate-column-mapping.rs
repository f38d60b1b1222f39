use versioned::Versioned;

#[derive(Versioned)]
struct User {
    id: i64,
    email: String,
    #[versioned(column = "email")]
    backup_email: String,
    #[version]
    version: i64,
}

#[derive(Versioned)]
struct Account {
    id: i64,
    #[versioned(column = "Name")]
    display_name: String,
    #[versioned(column = "name")]
    login_name: String,
    #[version]
    version: i64,
}

fn main() {}
