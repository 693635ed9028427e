//! Runtimes: how an environment's process is started. `provided.*` runs the zip's `bootstrap`;
//! `python3.x` and `nodejs*` run the host's python / node on our runtime interface clients,
//! shipped in the binary.

use std::path::{Path, PathBuf};

/// The python runtime interface client, written into each environment's runtime dir.
pub const PYTHON_RIC: &str = include_str!("ric/python_ric.py");

/// The nodejs runtime interface client (an ES module, so handlers may be CommonJS or ESM).
pub const NODE_RIC: &str = include_str!("ric/node_ric.mjs");

/// What to execute for a runtime.
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<PathBuf>,
    /// Runtime interface client to write before starting: (file name, contents).
    pub ric: Option<(&'static str, &'static str)>,
}

/// The interpreters CloudEmu runs functions with (`--lambda-python`, `--lambda-node`).
#[derive(Debug, Clone)]
pub struct Interpreters {
    pub python: String,
    pub node: String,
}

impl Default for Interpreters {
    fn default() -> Self {
        Self {
            python: "python3".into(),
            node: "node".into(),
        }
    }
}

/// How to start `runtime`, or why CloudEmu cannot.
pub fn launch(
    runtime: &str,
    interp: &Interpreters,
    task_root: &Path,
    runtime_dir: &Path,
) -> Result<Launch, String> {
    if runtime.starts_with("provided") {
        return Ok(Launch {
            program: task_root.join("bootstrap"),
            args: Vec::new(),
            ric: None,
        });
    }
    if runtime.starts_with("python3") {
        let program = find_program(&interp.python).ok_or_else(|| {
            format!(
                "CloudEmu cannot run {runtime} functions: the python interpreter '{}' was not \
                 found on this host (install python3 or pass --lambda-python / \
                 CLOUDEMU_LAMBDA_PYTHON)",
                interp.python
            )
        })?;
        return Ok(Launch {
            program,
            args: vec![runtime_dir.join("bootstrap.py")],
            ric: Some(("bootstrap.py", PYTHON_RIC)),
        });
    }
    if runtime.starts_with("nodejs") {
        let program = find_program(&interp.node).ok_or_else(|| {
            format!(
                "CloudEmu cannot run {runtime} functions: the node executable '{}' was not \
                 found on this host (install Node.js or pass --lambda-node / \
                 CLOUDEMU_LAMBDA_NODE)",
                interp.node
            )
        })?;
        return Ok(Launch {
            program,
            args: vec![runtime_dir.join("bootstrap.mjs")],
            ric: Some(("bootstrap.mjs", NODE_RIC)),
        });
    }
    Err(format!(
        "CloudEmu cannot run {runtime} functions yet: python3.x, nodejs and provided.al2/al2023 \
         are supported"
    ))
}

/// Resolve a program name on PATH (or a path as given).
fn find_program(name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.components().count() > 1 {
        return p.is_file().then(|| p.to_path_buf());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|c| c.is_file())
    })
}
