//! One run of the pipeline: discover → parse → evaluate → merge → extract →
//! rules. Everything after parsing runs on one thread with a large stack;
//! evaluation is bounded, so no input can overflow it.

use std::path::{Path, PathBuf};

use rowan::ast::AstNode;

use crate::diagnostic::Diagnostic;
use crate::discover::{discover, Found};
use crate::eval::{Evaluator, Limits};
use crate::model::{self, FileInfo, Model, Unimported, UnresolvedItem};
use crate::module::imports::reachability;
use crate::module::ModuleSystem;
use crate::parse::{parse_all, Input, SyntaxError};
use crate::rules::{self, Context, Selection};
use crate::secrets::Secrets;
use crate::settings::Settings;
use crate::source::FileId;
use crate::source::{SourceFile, Span};
use std::rc::Rc;

/// An editor buffer that replaces a file's content on disk.
pub struct Override {
    pub rel_path: String,
    pub content: Vec<u8>,
}

pub struct Analysis {
    pub root: PathBuf,
    pub files: Vec<SourceFile>,
    pub model: Model,
    /// Sorted by file, position, then code.
    pub diagnostics: Vec<Diagnostic>,
}

const STACK_BYTES: usize = 512 * 1024 * 1024;

/// Runs the whole analysis of the tree under `root`.
pub fn analyse(
    root: &Path,
    settings: &Settings,
    selection: Selection,
    buffer: Option<Override>,
) -> Result<Analysis, String> {
    let found = discover(root, settings)?;
    let mut inputs = Vec::new();
    let mut walk_errors = Vec::new();
    for f in found {
        match f {
            Found::File { rel_path, abs_path } => inputs.push(Input {
                rel_path,
                abs_path,
                content: None,
            }),
            Found::Error { rel_path, message } => walk_errors.push((rel_path, message)),
        }
    }
    if let Some(b) = buffer {
        match inputs.iter_mut().find(|i| i.rel_path == b.rel_path) {
            Some(i) => i.content = Some(Ok(b.content)),
            None => inputs.push(Input {
                abs_path: root.join(&b.rel_path),
                rel_path: b.rel_path,
                content: Some(Ok(b.content)),
            }),
        }
    }
    for (rel_path, message) in walk_errors {
        inputs.push(Input {
            abs_path: root.join(&rel_path),
            rel_path,
            content: Some(Err(message)),
        });
    }
    inputs.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    let parsed = parse_all(inputs);
    let settings = settings.clone();
    let root = root.to_path_buf();
    let worker = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(move || evaluate(root, parsed, &settings, &selection))
        .map_err(|e| format!("cannot start the analysis thread: {e}"))?;
    worker
        .join()
        .map_err(|_| "internal error: the analysis thread panicked".to_string())
}

fn evaluate(
    root: PathBuf,
    parsed: Vec<crate::parse::ParsedFile>,
    settings: &Settings,
    selection: &Selection,
) -> Analysis {
    let mut files = Vec::new();
    let mut infos = Vec::new();
    let mut roots = Vec::new();
    let mut suppressions = Vec::new();
    for mut p in parsed {
        suppressions.append(&mut p.suppressions);
        if p.errors.is_empty() {
            if let Some(green) = &p.green {
                let node = rnix::SyntaxNode::new_root(green.clone());
                if let Some(expr) = rnix::Root::cast(node).and_then(|r| r.expr()) {
                    roots.push((p.source.id, expr));
                } else {
                    // An empty file is no module: Nix rejects it too.
                    infos.push(FileInfo {
                        rel_path: p.source.rel_path.clone(),
                        syntax_errors: vec![SyntaxError {
                            span: Span {
                                file: p.source.id,
                                start: 0,
                                end: 0,
                            },
                            message: "the file is empty; a module must be a set or a function"
                                .to_string(),
                        }],
                    });
                    files.push(p.source);
                    continue;
                }
            }
        }
        infos.push(FileInfo {
            rel_path: p.source.rel_path.clone(),
            syntax_errors: p.errors,
        });
        files.push(p.source);
    }
    let dirs = files.iter().map(|f| f.dir()).collect();
    let ev = Evaluator::new(dirs, Limits::default());
    let mut loaded = ModuleSystem::load(&ev, &roots);
    let entry = files.iter().position(|f| f.rel_path == settings.entry);
    let mut unimported = Vec::new();
    let mut unresolved = Vec::new();
    if let Some(entry) = entry {
        let abs: Vec<PathBuf> = files.iter().map(|f| f.abs_path.clone()).collect();
        let reach = reachability(&loaded, entry as FileId, &abs);
        if reach.unresolved.is_empty() {
            let base: Vec<Rc<str>> = settings
                .service_path
                .iter()
                .map(|s| Rc::from(s.as_str()))
                .collect();
            for (i, reached) in reach.reached.iter().enumerate() {
                if !reached {
                    let services = loaded.defines_in_module(&ev, i as FileId, &base, "databases");
                    if !services.is_empty() {
                        unimported.push(Unimported {
                            file: i as FileId,
                            services,
                        });
                    }
                }
            }
            loaded.set_reached(&ev, &reach);
        } else {
            // An import that cannot be computed could reach any file: keep them all.
            for u in reach.unresolved {
                unresolved.push(UnresolvedItem {
                    service: None,
                    what: "an entry of `imports`".to_string(),
                    unresolved: u,
                });
            }
        }
    }
    let ms = Rc::new(loaded);
    ev.set_resolver(ms.clone());
    let ms = &*ms;
    let (services, mut found) = model::extract(&ev, ms, &settings.service_path);
    unresolved.append(&mut found);
    let model = Model {
        files: infos,
        services,
        unresolved,
        entry: entry.map(|e| files[e].rel_path.clone()),
        unimported,
        suppressions,
    };
    let mut diagnostics = rules::run(
        selection,
        &Context {
            model: &model,
            settings,
            secrets: &Secrets::load(&root, &settings.secrets_file),
        },
        &files,
    );
    sort_diagnostics(&mut diagnostics, &files);
    Analysis {
        root,
        files,
        model,
        diagnostics,
    }
}

fn sort_diagnostics(diags: &mut Vec<Diagnostic>, files: &[SourceFile]) {
    let path = |s: &Span| {
        files
            .get(s.file as usize)
            .map(|f| f.rel_path.as_str())
            .unwrap_or("")
    };
    diags.sort_by(|a, b| {
        (
            path(&a.primary.span),
            a.primary.span.start,
            a.primary.span.end,
            a.code,
            &a.message,
        )
            .cmp(&(
                path(&b.primary.span),
                b.primary.span.start,
                b.primary.span.end,
                b.code,
                &b.message,
            ))
    });
    diags.dedup();
}
