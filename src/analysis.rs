//! One run of the pipeline: discover → parse → evaluate → merge → extract →
//! rules. Everything after parsing runs on one thread with a large stack;
//! evaluation is bounded, so no input can overflow it.

use std::path::{Path, PathBuf};

use crate::cache::Cache;
use crate::diagnostic::Diagnostic;
use crate::discover::{discover, Found};
use crate::eval::{Evaluator, Limits};
use crate::eval::{Reason, Unresolved};
use crate::hosts::HostModule;
use crate::model::ensure::{extract_host, HostModel};
use crate::model::{self, FileInfo, Model, Unimported, UnresolvedItem};
use crate::module::imports::{module_of_path, reachability, reachability_from};
use crate::module::merge;
use crate::module::ModuleSystem;
use crate::parse::{parse_all, Input, SyntaxError};
use crate::rules::{self, Context, Selection};
use crate::secrets::Secrets;
use crate::settings::Settings;
use crate::source::FileId;
use crate::source::{SourceFile, Span};
use crate::syntax::NodeId;
use std::collections::HashSet;
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

/// Set by the command line, which exits right after the analysis: the
/// evaluator's memory is then left to the process's exit instead of being
/// freed value by value. Libraries and tests leave it unset.
pub static LEAVE_TO_EXIT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Runs the whole analysis of the tree under `root`, parsing every file.
pub fn analyse(
    root: &Path,
    settings: &Settings,
    selection: Selection,
    buffer: Option<Override>,
) -> Result<Analysis, String> {
    analyse_cached(root, settings, selection, buffer, None)
}

/// [`analyse`], reading unchanged files' parse results from `cache`.
pub fn analyse_cached(
    root: &Path,
    settings: &Settings,
    selection: Selection,
    buffer: Option<Override>,
    cache: Option<&Cache>,
) -> Result<Analysis, String> {
    let mut found = discover(root, settings)?;
    let contract: HashSet<String> = found
        .iter()
        .filter_map(|f| match f {
            Found::File { rel_path, .. } => Some(rel_path.clone()),
            Found::Error { .. } => None,
        })
        .collect();
    if host_mode(root, settings) {
        // A host's modules can live anywhere in the repository.
        let everything = Settings {
            include: vec!["**/*.nix".to_string()],
            ..settings.clone()
        };
        let seen: HashSet<String> = found.iter().map(found_path).map(str::to_string).collect();
        found.extend(
            discover(root, &everything)?
                .into_iter()
                .filter(|f| !seen.contains(found_path(f))),
        );
    }
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
    // A process-wide setting: only when this process is the dbprov command.
    if inputs.len() >= crate::memory::LARGE_TREE_FILES
        && LEAVE_TO_EXIT.load(std::sync::atomic::Ordering::Relaxed)
    {
        crate::memory::prefer_small_pages();
    }
    let t = std::time::Instant::now();
    let parsed = parse_all(inputs, cache);
    phase("parse", t);
    if std::env::var_os("DBPROV_TIMINGS").is_some() {
        let ast: usize = parsed
            .iter()
            .filter_map(|p| p.syntax.as_ref())
            .map(|a| a.heap_bytes())
            .sum();
        let src: usize = parsed.iter().map(|p| p.source.text.len()).sum();
        eprintln!(
            "dbprov: syntax trees {} kB, sources {} kB",
            ast / 1024,
            src / 1024
        );
    }
    let settings = settings.clone();
    let root = root.to_path_buf();
    let worker = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(move || evaluate(root, parsed, &contract, &settings, &selection))
        .map_err(|e| format!("cannot start the analysis thread: {e}"))?;
    worker
        .join()
        .map_err(|_| "internal error: the analysis thread panicked".to_string())
}

/// With `DBPROV_TIMINGS` set, how long each phase took (on stderr).
fn phase(name: &str, since: std::time::Instant) {
    if std::env::var_os("DBPROV_TIMINGS").is_some() {
        // Resident memory after the phase, where the system tells it.
        let rss = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .map(|l| l[6..].trim().to_string())
            })
            .unwrap_or_default();
        eprintln!(
            "dbprov: {name}: {:.1} ms (resident {rss})",
            since.elapsed().as_secs_f64() * 1000.0
        );
    }
}

fn found_path(f: &Found) -> &str {
    match f {
        Found::File { rel_path, .. } | Found::Error { rel_path, .. } => rel_path,
    }
}

/// Whether the tree declares NixOS configurations (in dbprov.toml, or
/// plausibly in flake.nix — the evaluation decides which hosts there are).
fn host_mode(root: &Path, settings: &Settings) -> bool {
    !settings.hosts.is_empty()
        || std::fs::read_to_string(root.join("flake.nix")).is_ok_and(|t| {
            ["nixosConfigurations", "nixosSystem", "mkFlake"]
                .iter()
                .any(|w| t.contains(w))
        })
}

fn evaluate(
    root: PathBuf,
    parsed: Vec<crate::parse::ParsedFile>,
    contract: &HashSet<String>,
    settings: &Settings,
    selection: &Selection,
) -> Analysis {
    let mut files = Vec::new();
    let mut infos = Vec::new();
    let mut roots = Vec::new();
    let mut syntax = Vec::new();
    let mut suppressions = Vec::new();
    let mut literal_secrets = Vec::new();
    for mut p in parsed {
        suppressions.append(&mut p.suppressions);
        literal_secrets.append(&mut p.literal_secrets);
        if p.errors.is_empty() {
            if let Some(ast) = p.syntax.take() {
                if let Some(expr) = ast.root() {
                    roots.push((p.source.id, expr));
                    syntax.push(Rc::new(ast));
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
    let limits = Limits {
        max_total_steps: Limits::default()
            .max_total_steps
            .max(files.len() as u64 * 2_000),
        ..Limits::default()
    };
    let ev = Evaluator::new(dirs, limits);
    for ast in syntax {
        ev.add_syntax(ast);
    }
    let abs: Vec<PathBuf> = files.iter().map(|f| f.abs_path.clone()).collect();
    ev.set_importable(
        &root,
        roots
            .iter()
            .map(|(f, e)| (files[*f as usize].abs_path.clone(), (*f, *e)))
            .collect(),
    );
    // flake.nix is no module; the contract files are the include set.
    let flake = files.iter().position(|f| f.rel_path == "flake.nix");
    let module_roots: Vec<(FileId, NodeId)> = roots
        .iter()
        .filter(|(f, _)| Some(*f as usize) != flake)
        .cloned()
        .collect();
    let contract_roots: Vec<(FileId, NodeId)> = module_roots
        .iter()
        .filter(|(f, _)| contract.contains(&files[*f as usize].rel_path))
        .cloned()
        .collect();
    let t = std::time::Instant::now();
    let mut loaded = ModuleSystem::load(&ev, &contract_roots);
    phase("load modules", t);
    let entry = files.iter().position(|f| f.rel_path == settings.entry);
    let mut unimported = Vec::new();
    let mut unresolved = Vec::new();
    if let Some(entry) = entry {
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
    let t = std::time::Instant::now();
    let (services, mut found) = model::extract(&ev, ms, &settings.service_path);
    phase("extract services", t);
    unresolved.append(&mut found);
    let mut specs = Vec::new();
    if let Some(f) = flake {
        if let Some((_, expr)) = roots.iter().find(|(id, _)| *id as usize == f) {
            let (found_hosts, problems) = crate::hosts::from_flake(&ev, f as FileId, *expr);
            specs.extend(found_hosts);
            unresolved.extend(problems.into_iter().map(|u| UnresolvedItem {
                service: None,
                what: "the hosts of flake.nix".to_string(),
                unresolved: u,
            }));
        }
    }
    for (name, modules) in &settings.hosts {
        specs.push(crate::hosts::HostSpec {
            name: name.clone(),
            span: Span::DETACHED,
            modules: modules
                .iter()
                .map(|m| crate::hosts::HostModule::File(normalize(&root.join(m)), Span::DETACHED))
                .collect(),
            unresolved: Vec::new(),
        });
    }
    let hosts: Vec<HostModel> = specs
        .iter()
        .flat_map(|h| analyse_host(&ev, h, &module_roots, &abs))
        .collect();
    // Literal secrets count in the files some host's configuration reaches.
    literal_secrets.retain(|s| {
        hosts.iter().any(|h| {
            h.reached
                .get(s.span.file as usize)
                .copied()
                .unwrap_or(false)
        })
    });
    let hosts_found = !unresolved
        .iter()
        .any(|u| u.what == "the hosts of flake.nix");
    let unreached = match hosts_found {
        true => unreached_files(&ev, &hosts, &module_roots),
        false => Vec::new(),
    };
    let model = Model {
        files: infos,
        services,
        unresolved,
        entry: entry.map(|e| files[e].rel_path.clone()),
        unimported,
        suppressions,
        hosts,
        literal_secrets,
        unreached,
    };
    let t = std::time::Instant::now();
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
    phase("rules", t);
    if std::env::var_os("DBPROV_TIMINGS").is_some() {
        eprintln!("dbprov: evaluation steps: {}", ev.total_steps());
    }
    if LEAVE_TO_EXIT.load(std::sync::atomic::Ordering::Relaxed) {
        // Freeing every thunk one by one takes longer than the process's exit.
        std::mem::forget(ev);
    }
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

/// Removes `.` and `..` lexically, as paths from dbprov.toml are compared with discovered ones.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether what could not be evaluated is certainly outside the repository,
/// so that it cannot import the repository's files: nixpkgs' modules
/// (`modulesPath + …`), store paths (`pkgs`), and the modules of other flake
/// inputs (`sops-nix.nixosModules.sops`; `self` is this repository).
fn outside_repository(u: &Unresolved) -> bool {
    u.detail.contains("(argument 'modulesPath')")
        || u.detail.contains("(argument 'pkgs')")
        || (u.detail.starts_with("flake input '") && !u.detail.starts_with("flake input 'self'"))
}

/// Ensure mode (DB018): the files no host reaches that define
/// `services.postgresql.ensureDatabases` or `ensureUsers`. Nothing is
/// reported when some host may reach files dbprov cannot follow.
fn unreached_files(
    ev: &Evaluator,
    hosts: &[HostModel],
    module_roots: &[(FileId, NodeId)],
) -> Vec<model::Unreached> {
    if hosts.is_empty() || hosts.iter().any(|h| h.reach_unknown) {
        return Vec::new();
    }
    let reached = |f: FileId| {
        hosts
            .iter()
            .any(|h| h.reached.get(f as usize) == Some(&true))
    };
    let roots: Vec<(FileId, NodeId)> = module_roots
        .iter()
        .filter(|(f, _)| !reached(*f))
        .cloned()
        .collect();
    if roots.is_empty() {
        return Vec::new();
    }
    let ms = ModuleSystem::load_system(ev, ev.reserve_system(), &roots, Vec::new());
    let base: [Rc<str>; 1] = [Rc::from("services")];
    let mut out = Vec::new();
    for (file, _) in &roots {
        for option in ["ensureDatabases", "ensureUsers"] {
            ev.reset_budget();
            for (service, span) in ms.defines_in_module(ev, *file, &base, option) {
                if service == "postgresql" {
                    out.push(model::Unreached {
                        file: *file,
                        option: option.to_string(),
                        span,
                    });
                }
            }
        }
    }
    out
}

/// Containers inside containers are followed this deep.
const MAX_CONTAINER_DEPTH: usize = 2;

/// One host: its own module system (a fresh evaluation of every file, of which
/// only what the host's module list reaches takes part), then its containers.
fn analyse_host(
    ev: &Evaluator,
    spec: &crate::hosts::HostSpec,
    module_roots: &[(FileId, NodeId)],
    abs: &[PathBuf],
) -> Vec<HostModel> {
    let values: Vec<(FileId, crate::eval::Val)> = spec
        .modules
        .iter()
        .filter_map(|m| match m {
            HostModule::Value(v) => Some((v.span.file, v.clone())),
            HostModule::File(..) => None,
        })
        .collect();
    let mut unresolved: Vec<UnresolvedItem> = spec
        .unresolved
        .iter()
        .map(|u| UnresolvedItem {
            service: None,
            what: "a module in its list".to_string(),
            unresolved: u.clone(),
        })
        .collect();
    let mut starts = Vec::new();
    for m in &spec.modules {
        if let HostModule::File(p, span) = m {
            // Resolved below against the loaded system.
            starts.push((p.clone(), *span));
        }
    }
    let id = ev.reserve_system();
    let ms = ModuleSystem::load_system(ev, id, module_roots, values);
    let mut start_modules: Vec<usize> = ms.extra.clone();
    for (p, span) in starts {
        match module_of_path(&ms, &p, abs) {
            Some(m) => start_modules.push(m),
            None => unresolved.push(UnresolvedItem {
                service: None,
                what: format!("a module of host '{}'", spec.name),
                unresolved: Unresolved::new(
                    Reason::DefinedElsewhere,
                    format!("{} is not among the analysed files", ev.display_path(&p)),
                    span,
                ),
            }),
        }
    }
    let mut hosts = Vec::new();
    let place = HostPlace {
        name: spec.name.clone(),
        span: spec.span,
        depth: 0,
    };
    host_system(
        ev,
        ms,
        place,
        start_modules,
        module_roots,
        abs,
        unresolved,
        &mut hosts,
    );
    hosts
}

/// Which configuration: its name (`host` or `host/containers/name`), where it
/// is declared, and how deep in containers.
struct HostPlace {
    name: String,
    span: Span,
    depth: usize,
}

/// Finishes one configuration's module system, extracts it, and recurses into
/// its `containers.<name>.config`.
#[allow(clippy::too_many_arguments)]
fn host_system(
    ev: &Evaluator,
    mut ms: ModuleSystem,
    place: HostPlace,
    starts: Vec<usize>,
    module_roots: &[(FileId, NodeId)],
    abs: &[PathBuf],
    mut unresolved: Vec<UnresolvedItem>,
    out: &mut Vec<HostModel>,
) {
    let reach = reachability_from(&ms, starts, abs);
    for u in &reach.unresolved {
        unresolved.push(UnresolvedItem {
            service: None,
            what: "an entry of `imports`".to_string(),
            unresolved: u.clone(),
        });
    }
    ms.set_reached(ev, &reach);
    let reach_unknown = unresolved
        .iter()
        .any(|u| !outside_repository(&u.unresolved))
        || reach.order.iter().any(|&i| ms.modules[i].config.is_err());
    let system = Rc::new(ms);
    ev.register(system.system, system.clone());
    let mut host = extract_host(ev, &system, &place.name, place.span, reach.reached.clone());
    host.reach_unknown = reach_unknown;
    host.unresolved.splice(0..0, unresolved);
    out.push(host);
    if place.depth >= MAX_CONTAINER_DEPTH {
        return;
    }
    // Each container's `config` is a NixOS configuration of its own.
    let containers = system.children(ev, &[Rc::from("containers")]);
    for (container, key_span) in &containers.names {
        let config_path: Vec<Rc<str>> = vec![
            Rc::from("containers"),
            container.clone(),
            Rc::from("config"),
        ];
        let merged = merge::merge(ev, &system.definitions(ev, &config_path), None);
        let problems: Vec<UnresolvedItem> = merged
            .uncertain
            .iter()
            .map(|u| UnresolvedItem {
                service: None,
                what: format!("containers.{container}.config"),
                unresolved: u.unresolved.clone(),
            })
            .collect();
        // A container's config is a module: a set, a function, or a file.
        let (paths, values): (Vec<_>, Vec<_>) = merged
            .counted
            .iter()
            .map(|c| (c.file, c.value.clone()))
            .partition(|(_, v)| matches!(v.v, crate::eval::V::Path(_)));
        if values.is_empty() && paths.is_empty() && problems.is_empty() {
            continue;
        }
        let id = ev.reserve_system();
        let cms = ModuleSystem::load_system(ev, id, module_roots, values);
        let mut starts = cms.extra.clone();
        let mut problems = problems;
        for (_, v) in &paths {
            if let crate::eval::V::Path(p) = &v.v {
                match module_of_path(&cms, p, abs) {
                    Some(m) => starts.push(m),
                    None => problems.push(UnresolvedItem {
                        service: None,
                        what: format!("containers.{container}.config"),
                        unresolved: Unresolved::new(
                            Reason::DefinedElsewhere,
                            format!("{} is not among the analysed files", ev.display_path(p)),
                            v.span,
                        ),
                    }),
                }
            }
        }
        let inner = HostPlace {
            name: format!("{}/containers/{container}", place.name),
            span: *key_span,
            depth: place.depth + 1,
        };
        host_system(ev, cms, inner, starts, module_roots, abs, problems, out);
    }
}
