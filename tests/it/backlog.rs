//! BACKLOG.md's operation matrix is generated; this keeps the checked-in file true.

#[tokio::test]
async fn backlog_matrix_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("BACKLOG.md");
    let text = std::fs::read_to_string(&path).expect("BACKLOG.md");
    let (Some(start), Some(end)) = (
        text.find(cloudemu::backlog::BEGIN),
        text.find(cloudemu::backlog::END),
    ) else {
        panic!("BACKLOG.md lacks the generated-section markers");
    };
    let current = &text[start..end + cloudemu::backlog::END.len()];
    let storage = cloudemu_storage::Storage::open(cloudemu_storage::StorageMode::Memory)
        .await
        .expect("storage");
    let wanted = cloudemu::backlog::render(&cloudemu::server::implemented_services(
        &storage,
        &cloudemu::Config::defaults(),
    ));
    if current != wanted {
        if std::env::var_os("UPDATE_BACKLOG").is_some() {
            let updated = format!(
                "{}{}{}",
                &text[..start],
                wanted,
                &text[end + cloudemu::backlog::END.len()..]
            );
            std::fs::write(&path, updated).expect("write BACKLOG.md");
        } else {
            panic!(
                "BACKLOG.md is out of date: run `UPDATE_BACKLOG=1 cargo test --test it backlog`"
            );
        }
    }
}
